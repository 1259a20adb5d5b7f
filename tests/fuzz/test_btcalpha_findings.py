"""What fuzzing found in code that is not ours to change, pinned down one answer at a time.

Each test feeds one hostile answer that decodes fine and expects a typed error (or finite
money); each is a strict xfail naming the file and the fix, so it turns red the day the fix
lands and the mark must go.
"""

from __future__ import annotations

import pytest

import connectors
from core.errors import ExconnError
from core.transport import Response
from tests.fuzz.harness import NO_HEADERS, outcome

NAN_TIME = [
    ("fetch_ticker", b'{"timestamp": "NaN", "pair": "BTC_USD", "last": "1"}'),
    ("fetch_trades", b'[{"id": 1, "timestamp": "Infinity", "pair": "BTC_USD", "price": "1", "amount": "1", '
                     b'"type": "buy"}]'),
    ("fetch_deposits", b'[{"id": 1, "timestamp": "NaN", "currency": "BTC", "amount": "1"}]'),
    ("create_order", b'{"success": true, "oid": 7, "type": "buy", "price": "1", "amount": "0", "date": "NaN"}'),
]


@pytest.mark.parametrize(("name", "body"), NAN_TIME)
async def test_a_nan_timestamp_is_a_bad_response(name, body):
    await outcome("btcalpha", name, lambda decoder: body)


@pytest.mark.parametrize("price", ["sNaN", "NaN"])
async def test_a_nan_price_in_the_book_is_a_bad_response(price):
    body = b'{"sell": [{"price": "%s", "amount": "1"}, {"price": "1", "amount": "1"}], "buy": []}' % price.encode()
    await outcome("btcalpha", "fetch_order_book", lambda decoder: body)


async def test_an_infinite_wallet_is_a_bad_response():
    body = b'[{"currency": "BTC", "balance": "Infinity", "reserve": "Infinity"}]'
    await outcome("btcalpha", "fetch_balances", lambda decoder: body)


async def test_an_order_date_that_is_not_a_number_is_a_bad_response():
    body = (b'[{"id": 1, "pair": "BTC_USD", "type": "buy", "price": "1", "amount": "1", "status": 1, '
            b'"date": "yesterday"}]')
    await outcome("btcalpha", "fetch_open_orders", lambda decoder: body)


@pytest.mark.parametrize(("name", "body"), [
    ("fetch_candles", b'[{"time": 1, "open": "NaN", "high": "1", "low": "1", "close": "1", "volume": "1"}]'),
    ("load_markets", b'[{"name": "BTC_USD", "currency1": "BTC", "currency2": "USD", "price_precision": 2, '
                     b'"minimum_order_size": "NaN", "maximum_order_size": "1000"}]'),
])
async def test_a_nan_that_would_pass_into_a_model_is_a_bad_response(name, body):
    await outcome("btcalpha", name, lambda decoder: body)


def test_an_error_answer_nested_too_deep_falls_back_to_the_status_default():
    ex = connectors.open("btcalpha")
    body = b'{"unknown": ' + b"[" * 5_000
    mapped = ex._map_error(Response("POST", "/", 400, NO_HEADERS, body, 0.0))
    assert mapped is None or isinstance(mapped, ExconnError)
