"""Peatio (Barong) signing: the spec's computed vectors C1–C3 bit for bit.

The seed's "official" value (6cc108cb…) is not reproducible from its stated inputs (spec §2)
and is deliberately not used as an expectation."""

import hmac

import pytest

from connectors.peatio.auth import Signer

SAMPLE_KEY, SAMPLE_SECRET = "61d025b8573501c2", "2d0b4979c7fe6986daa8e21d1dc0644f"


@pytest.mark.parametrize(("key", "secret", "nonce", "signature"), [
    ("changeme", "changeme", 1584087661035, "8e8b02ca60cf30590d9b46587074c86f8cdcb72e4ee05eb58aca05bcbd5ffd17"),
    (SAMPLE_KEY, SAMPLE_SECRET, 1584087661035, "5c65512c03216059fe5aef33e727380193cdf510192cd8f4f5361f204586f5a9"),
    (SAMPLE_KEY, SAMPLE_SECRET, 1700000000000, "d12ce287bd8aadec86968324d956b2bf7417209019be43bbc2f181178d32636a"),
], ids=["C1", "C2", "C3"])
def test_signature_is_hmac_sha256_of_nonce_then_key(key, secret, nonce, signature):
    assert Signer(key, secret).signature(nonce) == signature


def test_headers_are_the_three_x_auth_headers_of_vector_c3():
    assert Signer(SAMPLE_KEY, SAMPLE_SECRET).headers(1700000000000) == {
        "X-Auth-Apikey": SAMPLE_KEY,
        "X-Auth-Nonce": "1700000000000",
        "X-Auth-Signature": "d12ce287bd8aadec86968324d956b2bf7417209019be43bbc2f181178d32636a",
    }


def test_one_signer_signs_successive_nonces_without_carrying_state():
    signer = Signer(SAMPLE_KEY, SAMPLE_SECRET)
    assert [signer.signature(n) for n in (1584087661035, 1700000000000, 1584087661035)] == [
        "5c65512c03216059fe5aef33e727380193cdf510192cd8f4f5361f204586f5a9",
        "d12ce287bd8aadec86968324d956b2bf7417209019be43bbc2f181178d32636a",
        "5c65512c03216059fe5aef33e727380193cdf510192cd8f4f5361f204586f5a9",
    ]


@pytest.mark.parametrize("digest", ["sha384", "sha512"])
def test_hs384_and_hs512_keys_sign_with_the_matching_digest(digest):
    expected = hmac.new(SAMPLE_SECRET.encode(), f"1700000000000{SAMPLE_KEY}".encode(), digest).hexdigest()
    assert Signer(SAMPLE_KEY, SAMPLE_SECRET, digest).signature(1700000000000) == expected


def test_signer_repr_hides_the_secret():
    assert SAMPLE_SECRET not in repr(Signer(SAMPLE_KEY, SAMPLE_SECRET))
