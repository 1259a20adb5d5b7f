"""Quidax v2 signing: the seed's official vector and the spec's vectors C1–C3 (access key
``xxx``, secret ``yyy``) bit for bit, and the canonical form of array parameters."""

import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from connectors.quidax.auth import Signer, flatten

OFFICIAL = "e324059be4491ed8e528aa7b8735af1e96547fbec96db962d51feb7bf1b64dee"
C1 = "e39822f6d0d77aaa82f595cb985774212c569fe592f9e0df5593808576b6eb79"
C2 = "d9ba6bbf5781e0bb9cd67726334e1d1f5c30ccdbab24cdc6ba88b5f956da83ba"
C3 = "d70ed058416f2725f024ff1ae4872a22cb29c1ef0b9a34e4b85c7dc475fb07f4"
TONCE = 1_600_000_000_000


@pytest.fixture
def signer() -> Signer:
    return Signer("xxx", "yyy")


def test_official_vector_signs_the_seed_payload(signer):
    assert signer.signature("GET|/api/v2/markets|access_key=xxx&foo=bar&tonce=123456789") == OFFICIAL


def test_official_vector_through_sign_puts_access_key_first_and_signature_last(signer):
    pairs = signer.sign("GET", "/api/v2/markets", {"foo": "bar"}, 123456789)
    assert pairs == [("access_key", "xxx"), ("foo", "bar"), ("tonce", "123456789"), ("signature", OFFICIAL)]


def test_c1_members_me_signs_key_and_tonce_only(signer):
    assert signer.signature(f"GET|/api/v2/members/me|access_key=xxx&tonce={TONCE}") == C1
    assert signer.sign("GET", "/api/v2/members/me", {}, TONCE)[-1] == ("signature", C1)


def test_c2_create_order_sorts_params_and_gives_the_spec_body(signer):
    pairs = signer.sign("POST", "/api/v2/orders", {"market": "btcngn", "side": "buy", "volume": "1", "price": "4000"},
                        TONCE)
    assert urlencode(pairs) == (f"access_key=xxx&market=btcngn&price=4000&side=buy&tonce={TONCE}&volume=1"
                                f"&signature={C2}")


def test_c3_cancel_order_signature(signer):
    assert signer.sign("POST", "/api/v2/order/delete", {"id": 7}, TONCE)[-1] == ("signature", C3)


def test_verb_and_path_are_signed(signer):
    get = signer.sign("GET", "/api/v2/orders", {"id": 7}, TONCE)[-1]
    post = signer.sign("POST", "/api/v2/orders", {"id": 7}, TONCE)[-1]
    other_path = signer.sign("POST", "/api/v2/order/delete", {"id": 7}, TONCE)[-1]
    assert len({get, post, other_path}) == 3 and other_path == ("signature", C3)


def test_values_are_signed_unescaped_and_escaped_only_on_the_wire(signer):
    pairs = signer.sign("GET", "/api/v2/deposit", {"txid": "a b/c&d"}, TONCE)
    payload = f"GET|/api/v2/deposit|access_key=xxx&tonce={TONCE}&txid=a b/c&d"
    assert pairs[-1] == ("signature", hmac.new(b"yyy", payload.encode(), hashlib.sha256).hexdigest())
    assert "txid=a+b%2Fc%26d" in urlencode(pairs)


def test_array_is_one_unit_in_wire_order_sorted_by_its_text():
    """The form the sandbox documents for ``orders[]`` (spec §2 calls it uncertain)."""
    signer = Signer("k", "s")
    orders = [{"price": "4000", "side": "sell"}, {"price": "3999", "side": "buy"}]
    pairs = signer.sign("POST", "/api/v2/orders/multi", {"orders": orders, "market": "btcngn"}, 1)
    canonical = ("access_key=k&market=btcngn&orders[][price]=4000&orders[][side]=sell"
                 "&orders[][price]=3999&orders[][side]=buy&tonce=1")
    payload = f"POST|/api/v2/orders/multi|{canonical}"
    assert pairs[-1] == ("signature", hmac.new(b"s", payload.encode(), hashlib.sha256).hexdigest())
    assert [name for name, _ in pairs[:-1]] == ["access_key", "market", "orders[][price]", "orders[][side]",
                                                "orders[][price]", "orders[][side]", "tonce"]


def test_flatten_writes_rails_array_names_and_leaves_out_none():
    assert flatten({"a": None, "ids": [1, 2], "o": [{"x": "1", "y": None}]}) == [
        [("ids[]", "1"), ("ids[]", "2")], [("o[][x]", "1")]]


def test_bearer_header_carries_the_secret_for_v1(signer):
    assert signer.bearer() == {"Authorization": "Bearer yyy"}


def test_signer_repr_hides_key_and_secret(signer):
    assert "yyy" not in repr(signer) and "xxx" not in repr(signer)
