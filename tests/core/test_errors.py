import pytest

from core import errors
from core.errors import (
    AuthenticationError,
    ExchangeError,
    ExconnError,
    InvalidNonce,
    NetworkError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    RequestTimeout,
)


def test_tree_matches_the_documented_hierarchy():
    assert issubclass(InvalidNonce, AuthenticationError) and issubclass(AuthenticationError, ExchangeError)
    assert issubclass(RequestTimeout, NetworkError)
    assert not issubclass(OutcomeUnknown, (ExchangeError, NetworkError))  # never caught by a blind retry
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), ExconnError)


def test_every_error_is_named_in_the_module_docstring_tree():
    for name in errors.__all__:
        assert name in errors.__doc__


def test_error_carries_exchange_status_and_exchange_code():
    err = RateLimited("slow down", exchange="quidax", status=429, code=2001, retry_after=1.5)
    assert (err.exchange, err.status, err.code, err.retry_after) == ("quidax", 429, "2001", 1.5)
    assert str(err) == "[quidax] HTTP 429 code=2001: slow down"


def test_not_supported_says_why():
    err = NotSupported("withdraw", reason="BTC-Alpha has no withdrawal API", exchange="btcalpha")
    assert "no withdrawal API" in str(err) and err.reason == "BTC-Alpha has no withdrawal API"


def test_outcome_unknown_keeps_request_and_cause():
    cause = RequestTimeout("timed out")
    err = OutcomeUnknown("maybe placed", method="POST", path="/api/v1/order/", cause=cause, exchange="btcalpha")
    assert err.cause is cause and err.method == "POST" and err.path == "/api/v1/order/"
    with pytest.raises(OutcomeUnknown):
        raise err
