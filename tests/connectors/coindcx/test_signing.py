"""CoinDCX signing: the spec's vectors C1–C3 (secret ``secret``) bit for bit, through the
body the Signer builds and sends."""

from decimal import Decimal

import pytest

from connectors.coindcx.auth import Signer

TIMESTAMP = 1524211224000
C1 = "b5ffa0a7a3850f3d00a358302a5fdd7087fdef9f3796994be91ada7841c2e5ae"
C2 = "122e7615cc422759ad5d72d923e0751f76a1e6bb45f9d9868964664107b49699"
C3 = "9b7558549fb50fde5541274096a541444948b94c83ea14217746a42d514de022"
C1_SPACED = "6e3439427cf6b061aa837abfbf40d5991d8bb3e0746e6a3f96ba85a07e3b2f34"
C2_BODY = (b'{"side":"buy","order_type":"limit_order","market":"SNTBTC","price_per_unit":0.03244,'
           b'"total_quantity":400,"timestamp":1524211224000}')
C2_PARAMS = {"side": "buy", "order_type": "limit_order", "market": "SNTBTC", "price_per_unit": Decimal("0.03244"),
             "total_quantity": Decimal("400")}


@pytest.fixture
def signer() -> Signer:
    return Signer("mykey", "secret")


def test_c1_a_call_without_parameters_signs_the_bare_timestamp(signer):
    body = signer.body(None, TIMESTAMP)
    assert body == b'{"timestamp":1524211224000}'
    assert signer.signature(body) == C1


def test_c2_create_order_body_is_compact_json_in_parameter_order_with_timestamp_last(signer):
    body = signer.body(C2_PARAMS, TIMESTAMP)
    assert body == C2_BODY
    assert signer.signature(body) == C2


def test_c2_decimals_are_sent_as_json_numbers_like_the_floats_of_the_vector(signer):
    floats = {**C2_PARAMS, "price_per_unit": 0.03244, "total_quantity": 400}
    assert signer.body(floats, TIMESTAMP) == signer.body(C2_PARAMS, TIMESTAMP) == C2_BODY


def test_c3_order_status_and_cancel_signature(signer):
    body = signer.body({"id": "ead19992-43fd-11e8-b027-bb815bcb14ed"}, TIMESTAMP)
    assert body == b'{"id":"ead19992-43fd-11e8-b027-bb815bcb14ed","timestamp":1524211224000}'
    assert signer.signature(body) == C3


def test_spaced_serialization_would_sign_differently(signer):
    assert signer.signature(b'{"timestamp": 1524211224000}') == C1_SPACED != C1


def test_headers_carry_key_signature_and_json_content_type(signer):
    body = signer.body(C2_PARAMS, TIMESTAMP)
    assert signer.headers(body) == {"X-AUTH-APIKEY": "mykey", "X-AUTH-SIGNATURE": C2,
                                    "Content-Type": "application/json"}


def test_small_decimals_go_plain_never_with_an_exponent(signer):
    body = signer.body({"price_per_unit": Decimal("1E-8"), "total_quantity": Decimal("5.000")}, TIMESTAMP)
    assert body == b'{"price_per_unit":0.00000001,"total_quantity":5,"timestamp":1524211224000}'


def test_nested_orders_and_id_lists_keep_their_shape(signer):
    body = signer.body({"orders": [{"price_per_unit": Decimal("0.10"), "client_order_id": None}],
                        "ids": ("a", "b")}, TIMESTAMP)
    assert body == b'{"orders":[{"price_per_unit":0.1}],"ids":["a","b"],"timestamp":1524211224000}'


def test_none_parameters_are_left_out_and_the_timestamp_is_ours(signer):
    body = signer.body({"symbol": None, "timestamp": 1, "limit": 10}, TIMESTAMP)
    assert body == b'{"timestamp":1524211224000,"limit":10}'


def test_signer_repr_hides_key_and_secret(signer):
    assert repr(signer) == "Signer(coindcx, ***)"
