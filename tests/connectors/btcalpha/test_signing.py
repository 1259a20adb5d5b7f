"""BTC-Alpha signing: the spec's vectors C1–C3 (key ``mykey``, secret ``mysecret``) bit for bit."""

import pytest

from connectors.btcalpha.auth import Signer

C1 = "4e31b43db68a89db0c4aebe7da128b6e395463ce4fbd381b9087949bb350a6d0"
C2 = "58b2acb854e3af1dc5c94ca70ee36bdf83d105472d0e3efbeaf9362f3b3e0d89"
C3 = "5a00a35ca1709a0b8729ed1fd59c5a865426bbe5cc6cf6f0b639407347b8d9eb"
C2_DATA = {"type": "buy", "pair": "BTC_USD", "amount": "1.0", "price": "870.69"}


@pytest.fixture
def signer() -> Signer:
    return Signer("mykey", "mysecret")


def test_c1_empty_data_signs_the_key_alone(signer):
    assert signer.encode({}) == ""
    assert signer.signature("") == C1


def test_c2_create_order_body_is_sorted_form_data(signer):
    body = signer.encode(C2_DATA)
    assert body == "amount=1.0&pair=BTC_USD&price=870.69&type=buy"
    assert signer.signature(body) == C2


def test_c3_cancel_order_signature(signer):
    body = signer.encode({"order": "63568"})
    assert body == "order=63568"
    assert signer.signature(body) == C3


def test_headers_carry_key_signature_and_nonce_as_the_c2_request(signer):
    headers = signer.headers(signer.encode(C2_DATA), 1_700_000_000_000)
    assert headers == {"X-KEY": "mykey", "X-SIGN": C2, "X-NONCE": "1700000000000"}


def test_nonce_is_not_part_of_the_signed_message(signer):
    body = signer.encode(C2_DATA)
    assert signer.headers(body, 1)["X-SIGN"] == signer.headers(body, 2)["X-SIGN"] == C2


def test_one_signer_signs_many_requests_without_carrying_state(signer):
    bodies = ["", signer.encode(C2_DATA), "order=63568"]
    assert [signer.signature(b) for b in bodies * 2] == [C1, C2, C3] * 2


def test_signer_repr_hides_the_secret(signer):
    assert "mysecret" not in repr(signer) and "mykey" not in repr(signer)
