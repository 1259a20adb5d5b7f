"""Hypothesis strategies for exchange answers — arbitrary JSON, and JSON shaped like a msgspec
schema whose leaves are hostile (NaN, Infinity, huge or negative numbers, empty or absurd
strings, wrong types), so decoding usually succeeds and the conversion behind it is tested —
and the settings every fuzz test runs with."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Number tokens that are valid JSON and decode into a Decimal or int field, but break naive
# arithmetic, comparisons and int() conversions.
NASTY_NUMBERS = (
    "0", "-0", "-1", "-0.5", "1e-400", "1E+400", "1e999999999", "-1e999999999", "1e-999999999",
    "123456789012345678901234567890.123456789", "9" * 60, "0.000000000000000000000000000001",
)
# Decimal text msgspec accepts in a quoted string and turns into NaN, Infinity or sNaN.
NON_FINITE = ("NaN", "-NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "-inf")
NASTY_STRINGS = (
    "", " ", "x", "0", "-1", "NaN", "1e999999999", "null", "BTC/USD", "btcusd", "I-BTC_INR",
    "2020-03-12T17:01:56Z", "2020-03-12T17:01:56.123456+01:00", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999+14:00", "2020-02-30T00:00:00Z", "2020-03-12", "1583240640",
    "1583240640.5", "-62135596800", "253402300800", "\u0000", "\ud7ff" * 3, "9" * 5000,
)
NASTY_INTS = (0, -1, 1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64, 10**20, 253_402_300_800,
              253_402_300_800_000, 10**18)

_WRONG = st.sampled_from([None, True, False, [], {}, "x", "", msgspec.Raw(b"1"), msgspec.Raw(b"-1.5"),
                          msgspec.Raw(b"1e999"), {"a": 1}, [1, "2"]])


def _number(token: str) -> msgspec.Raw:
    """A JSON number token, written as it is (not through float)."""
    return msgspec.Raw(token.encode())


def encode(value: Any) -> bytes:
    """JSON bytes of a value built by these strategies (``msgspec.Raw`` tokens kept verbatim)."""
    return msgspec.json.encode(value)


def _decimal_text() -> st.SearchStrategy[str]:
    plain = st.decimals(allow_nan=False, allow_infinity=False, places=8,
                        min_value=-(10**12), max_value=10**12).map(lambda d: format(d, "f"))
    return st.one_of(plain, st.sampled_from(NASTY_NUMBERS))


DECIMALS = st.one_of(
    _decimal_text().map(_number),  # as a JSON number
    _decimal_text(),  # as a decimal string
    st.sampled_from(NON_FINITE),  # only a string can carry these
)
INTS = st.one_of(st.integers(-(10**15), 10**15), st.sampled_from(NASTY_INTS),
                 st.integers(-(2**80), 2**80))
STRINGS = st.one_of(st.text(max_size=12), st.sampled_from(NASTY_STRINGS))

DEEPLY_NESTED = st.integers(1_000, 5_000).flatmap(lambda depth: st.sampled_from([
    b"[" * depth, b"[" * depth + b"]" * depth, b'{"errors": ' + b"[" * depth, b'{"a": ' * depth]))
"""JSON (whole or cut short) nested deeper than a recursive parser's stack: its RecursionError
must not escape."""

def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(STRINGS, children, max_size=4)


JSON = st.recursive(st.none() | st.booleans() | INTS | STRINGS | DECIMALS, _containers, max_leaves=20)
"""Any JSON value, hostile leaves included."""


@cache
def shaped_like(schema: Any, *, wrong: float = 0.04) -> st.SearchStrategy[Any]:
    """JSON values of the shape of ``schema`` (a msgspec type, e.g. a decoder's ``.type``);
    each leaf is of the wrong type with probability about ``wrong``."""
    return _for(mi.type_info(schema), wrong)


def _maybe_wrong(strategy: st.SearchStrategy[Any], wrong: float) -> st.SearchStrategy[Any]:
    if not wrong:
        return strategy
    return st.one_of(*[strategy] * (round(1 / wrong) - 1), _WRONG)  # one_of picks a branch uniformly


def _for(t: mi.Type, wrong: float) -> st.SearchStrategy[Any]:
    if isinstance(t, mi.StructType):
        return _struct(t, wrong)
    if isinstance(t, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
        return st.lists(_for(t.item_type, wrong), max_size=3)
    if isinstance(t, mi.TupleType):
        return st.tuples(*(_for(item, wrong) for item in t.item_types)).map(list)
    if isinstance(t, mi.DictType):
        return st.dictionaries(_key(t.key_type), _for(t.value_type, wrong), max_size=3)
    if isinstance(t, mi.UnionType):
        return st.one_of(*(_for(member, wrong) for member in t.types))
    if isinstance(t, mi.LiteralType):
        return _maybe_wrong(st.sampled_from(t.values), wrong)
    if isinstance(t, mi.DecimalType):
        return _maybe_wrong(DECIMALS, wrong)
    if isinstance(t, mi.IntType):
        return _maybe_wrong(INTS, wrong)
    if isinstance(t, mi.FloatType):
        return _maybe_wrong(DECIMALS.filter(lambda v: isinstance(v, msgspec.Raw)), wrong)
    if isinstance(t, mi.StrType):
        return _maybe_wrong(STRINGS, wrong)
    if isinstance(t, mi.BoolType):
        return _maybe_wrong(st.booleans(), wrong)
    if isinstance(t, mi.NoneType):
        return st.none()
    return JSON  # Any, and whatever else a schema may hold


def _key(t: mi.Type) -> st.SearchStrategy[str]:
    if isinstance(t, mi.DecimalType):
        return st.one_of(_decimal_text(), st.sampled_from(NON_FINITE))
    if isinstance(t, mi.IntType):
        return INTS.map(str)
    return STRINGS


def _struct(t: mi.StructType, wrong: float) -> st.SearchStrategy[Any]:
    fields = {f.encode_name: (f.required, _for(f.type, wrong)) for f in t.fields}
    if t.array_like:
        return st.tuples(*(strategy for _, strategy in fields.values())).map(list)
    required = {name: strategy for name, (needed, strategy) in fields.items() if needed}
    optional = {name: strategy for name, (needed, strategy) in fields.items() if not needed}
    shaped = st.fixed_dictionaries(required, optional=optional)
    if t.tag_field is not None:
        shaped = shaped.map(lambda d: {t.tag_field: t.tag, **d})
    return shaped


# Set EXCONN_FUZZ_EXAMPLES to explore fresh random inputs; by default every run tries the same
# (derandomized) examples, so a CI result is reproducible.
EXPLORE = int(os.environ.get("EXCONN_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int) -> settings:
    """``examples`` derandomized examples, not shrunk (a failure is reported as found, at once);
    with EXCONN_FUZZ_EXAMPLES set, that many random ones, shrunk."""
    phases = tuple(Phase) if EXPLORE else (Phase.explicit, Phase.generate)
    return settings(max_examples=EXPLORE or examples, derandomize=not EXPLORE, deadline=None if EXPLORE else 1000,
                    phases=phases, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
