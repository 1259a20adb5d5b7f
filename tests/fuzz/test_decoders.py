"""Every connector's decoders, fed hostile answers through the connector's own path
(:mod:`tests.fuzz.harness`): every unified method, on arbitrary bytes, arbitrary JSON and JSON
shaped like the schema it decodes with NaN, Infinity, huge, negative and empty values.

Whatever comes out must be an :class:`ExconnError`, and every Decimal returned finite: a raw
ValueError, KeyError, decimal.InvalidOperation or IndexError is a bug, and so is a hang.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors.btcalpha import schemas as btcalpha
from connectors.coindcx import schemas as coindcx
from connectors.peatio import schemas as peatio
from connectors.qtrade import schemas as qtrade
from connectors.quidax import schemas as quidax
from core.errors import BadResponse, ExconnError
from core.transport import Response
from tests.fuzz.harness import NO_HEADERS, outcome, supported
from tests.fuzz.json_strategies import DEEPLY_NESTED, JSON, encode, fuzz, shaped_like

ERROR_DECODERS = {"btcalpha": btcalpha.ERROR, "coindcx": coindcx.ERROR, "peatio": peatio.ERROR,
                  "qtrade": qtrade.ERRORS, "quidax": quidax.ERROR}
CASES = [(exchange, name) for exchange in connectors.EXCHANGES for name in supported(exchange)]

EXCHANGES = list(connectors.EXCHANGES)


@pytest.mark.parametrize(("exchange", "name"), CASES)
@fuzz(15)
@given(data=st.data())
async def test_schema_shaped_answers_with_hostile_values_raise_only_typed_errors(exchange, name, data):
    def answer(decoder: msgspec.json.Decoder[Any] | None) -> bytes:
        schema = Any if decoder is None else decoder.type
        return encode(data.draw(shaped_like(schema), label=str(getattr(schema, "__name__", schema))))

    await outcome(exchange, name, answer)


@pytest.mark.parametrize("exchange", EXCHANGES)
@fuzz(60)
@given(data=st.data())
async def test_arbitrary_bytes_and_json_raise_only_typed_errors(exchange, data):
    name = data.draw(st.sampled_from(supported(exchange)), label="method")
    bodies = st.one_of(st.binary(max_size=200), JSON.map(encode))
    await outcome(exchange, name, lambda decoder: data.draw(bodies, label="body"))


@pytest.mark.parametrize("exchange", EXCHANGES)
@fuzz(60)
@given(data=st.data())
async def test_error_answers_map_to_typed_errors_or_the_status_default(exchange, data):
    ex = connectors.open(exchange, key="fuzz-key", secret="fuzz-secret")
    body = data.draw(st.one_of(shaped_like(ERROR_DECODERS[exchange].type).map(encode), st.binary(max_size=100),
                               JSON.map(encode), DEEPLY_NESTED), label="body")
    status = data.draw(st.sampled_from([400, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503]), label="status")
    path = data.draw(st.sampled_from([ep.path for ep in ex.endpoints.values()]), label="path")
    mapped = ex._map_error_checked(Response("POST", path, status, NO_HEADERS, body, 0.0))
    assert mapped is None or isinstance(mapped, ExconnError)


@pytest.mark.parametrize("exchange", connectors.EXCHANGES)
async def test_deeply_nested_answer_raises_bad_response(exchange):
    nested = b'{"unknown": ' + b"[" * 5_000  # an unknown field's value is skipped, recursively

    def answer(decoder: msgspec.json.Decoder[Any] | None) -> bytes:
        is_list = decoder is not None and typing.get_origin(decoder.type) is list
        return b"[" + nested if is_list else nested

    result = await outcome(exchange, "fetch_balances", answer)
    assert isinstance(result, BadResponse)


@pytest.mark.parametrize("exchange", [exchange for exchange in connectors.EXCHANGES if exchange != "btcalpha"])
def test_an_error_answer_nested_too_deep_falls_back_to_the_status_default(exchange):
    ex = connectors.open(exchange, key="fuzz-key", secret="fuzz-secret")
    body = b'{"unknown": ' + b"[" * 5_000
    assert ex._map_error(Response("POST", "/", 400, NO_HEADERS, body, 0.0)) is None
