"""qTrade's signature vectors (specs/qtrade.md §2) through the Signer, bit for bit."""

import pytest

from connectors.qtrade.auth import Signer

ONES = "1" * 64


@pytest.mark.parametrize(
    ("credential", "method", "uri", "timestamp", "body", "authorization"),
    [
        pytest.param("256:vwj043jtrw4o5igw4oi5jwoi45g", "GET", "/", 12345, b"",
                     "HMAC-SHA256 256:iyfC4n+bE+3hLgMJns1Z67FKA7O5qm5PgDvZHGraMTQ=", id="O1-official-root"),
        pytest.param(f"1:{ONES}", "GET", "/v1/user/orders?open=false", 12345, b"",
                     "HMAC-SHA256 1:4S8CauoSJcBbQsdcqpqvzN/aFyVJgADXU05eppDxiFA=", id="O2-official-query"),
        pytest.param(f"1:{ONES}", "GET", "/v1/user/balances", 1573604427, b"",
                     "HMAC-SHA256 1:dX76Q+w0d9DJ3uK3ueUd2a3DOd6nWQZ644CCYC6M4Is=", id="C1-get"),
        pytest.param(f"1:{ONES}", "POST", "/v1/user/sell_limit", 1573604427,
                     b'{"amount": "1", "price": "0.01", "market_id": 1}',
                     "HMAC-SHA256 1:9zCTlGkeGGcIG30UFCGHnNdof2Oi1Wpuzx2MBukAVmw=", id="C2-post-order"),
        pytest.param(f"1:{ONES}", "POST", "/v1/user/cancel_order", 1573604427, b'{"id": 109}',
                     "HMAC-SHA256 1:DcMGd7cklGSlfiM20idRgBjkeMwVCZPuNZ5BUBXcVLk=", id="C3-post-cancel"),
    ],
)
def test_signer_reproduces_the_spec_vectors(credential, method, uri, timestamp, body, authorization):
    key_id, _, secret = credential.partition(":")
    headers = Signer(key_id, secret).headers(method, uri, timestamp, body)
    assert headers == {"Authorization": authorization, "HMAC-Timestamp": str(timestamp)}


def test_lower_case_method_signs_as_upper_case():
    signer = Signer("1", ONES)
    assert signer.signature("get", "/v1/user/balances", 1573604427) == "dX76Q+w0d9DJ3uK3ueUd2a3DOd6nWQZ644CCYC6M4Is="


def test_signature_covers_the_query_string():
    signer = Signer("1", ONES)
    assert signer.signature("GET", "/v1/user/orders?open=false", 12345) != signer.signature("GET", "/v1/user/orders", 12345)


def test_signer_repr_hides_the_secret():
    assert ONES not in repr(Signer("1", ONES))
