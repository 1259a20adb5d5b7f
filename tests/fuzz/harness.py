"""The fuzz tests' connector harness: unified methods answered by generated bodies instead
of the network, decoded by the connector's own ``_decode`` — what ``_call`` does after the
network — so the conversion to models and whatever a method does next run for real."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from multidict import CIMultiDict, CIMultiDictProxy

import connectors
from core.connector import ANY_JSON, Connector, Endpoint
from core.errors import ExconnError
from core.models import Market
from core.transport import Response

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MARKETS_FIXTURE = {"btcalpha": "pairs_live", "coindcx": "markets_details", "peatio": "markets",
                   "qtrade": "markets", "quidax": "markets"}
WITHDRAW_OPTIONS: dict[str, dict[str, Any]] = {"peatio": {"otp": "123456", "beneficiary_id": 1}}
NO_HEADERS = CIMultiDictProxy(CIMultiDict())
SECONDS_PER_CALL = 2.0  # far beyond any honest conversion: longer is a hang

Call = Callable[[Connector], Awaitable[Any]]


def order_size(market: Market) -> tuple[Decimal, Decimal]:
    """An amount and price the market's own rules accept."""
    price = market.min_price or Decimal(1)
    amount = max(market.min_amount or Decimal(1), Decimal(1))
    if market.min_cost and amount * price < market.min_cost:
        amount = (market.min_cost / price).to_integral_value() + 1
    return amount, price


def unified_calls(market: Market) -> dict[str, Call]:
    """One call of each unified method that takes an answer to decode."""
    symbol, (amount, price) = market.symbol, order_size(market)
    return {
        "load_markets": lambda ex: ex.load_markets(reload=True),
        "fetch_currencies": lambda ex: ex.fetch_currencies(),
        "fetch_server_time": lambda ex: ex.fetch_server_time(),
        "fetch_ticker": lambda ex: ex.fetch_ticker(symbol),
        "fetch_tickers": lambda ex: ex.fetch_tickers(),
        "fetch_order_book": lambda ex: ex.fetch_order_book(symbol, 5),
        "fetch_book_orders": lambda ex: ex.fetch_book_orders(symbol, 5),
        "fetch_trades": lambda ex: ex.fetch_trades(symbol, 10),
        "fetch_candles": lambda ex: ex.fetch_candles(symbol),
        "fetch_balances": lambda ex: ex.fetch_balances(),
        "create_order": lambda ex: ex.create_order(symbol, "buy", amount, price),
        "cancel_order": lambda ex: ex.cancel_order("1", symbol),
        "cancel_all_orders": lambda ex: ex.cancel_all_orders(),
        "cancel_all_orders_of_symbol": lambda ex: ex.cancel_all_orders(symbol),
        "fetch_order": lambda ex: ex.fetch_order("1", symbol),
        "fetch_open_orders": lambda ex: ex.fetch_open_orders(),
        "fetch_orders": lambda ex: ex.fetch_orders(symbol),
        "fetch_my_trades": lambda ex: ex.fetch_my_trades(limit=5),
        "fetch_deposits": lambda ex: ex.fetch_deposits(),
        "fetch_withdrawals": lambda ex: ex.fetch_withdrawals(),
        "fetch_deposit_address": lambda ex: ex.fetch_deposit_address(market.base),
        "withdraw": lambda ex: ex.withdraw(market.base, Decimal(1), "addr",
                                           **WITHDRAW_OPTIONS.get(ex.id, {})),
    }


def supported(exchange: str) -> list[str]:
    """The names in :func:`unified_calls` that the exchange's connector can answer."""
    cls = connectors.connector_class(exchange)
    names = []
    for name in unified_calls(Market("X/Y", "xy", "X", "Y")):
        method = name.removesuffix("_of_symbol")
        if method == "fetch_book_orders":
            if hasattr(cls, method):
                names.append(name)
        elif cls.has.get(method, True):
            names.append(name)
    return names


class Served:
    """A connector whose calls are answered by ``answer(decoder)`` instead of the network."""

    def __init__(self, exchange: str, answer: Callable[[msgspec.json.Decoder[Any] | None], bytes]) -> None:
        self.ex = connectors.open(exchange, key="fuzz-key", secret="fuzz-secret", sync_clock=False)
        self.answer = answer
        self.ex._call = self._call  # type: ignore[method-assign]
        self.ex._send = self._send  # type: ignore[method-assign]

    def _response(self, endpoint: Endpoint | str, body: bytes) -> Response:
        ep = self.ex.endpoints[endpoint] if isinstance(endpoint, str) else endpoint
        return Response(ep.method, ep.path, 200, NO_HEADERS, body, 0.0)

    async def _call(self, endpoint: Endpoint | str, params: Any = None, *, path_params: Any = None,
                    decoder: msgspec.json.Decoder[Any] = ANY_JSON) -> Any:
        return self.ex._decode(self._response(endpoint, self.answer(decoder)), decoder)

    async def _send(self, endpoint: Endpoint | str, params: Any = None, *, path_params: Any = None) -> Response:
        return self._response(endpoint, self.answer(None))


async def served(exchange: str, answer: Callable[[msgspec.json.Decoder[Any] | None], bytes]) -> Served:
    """A served connector with the exchange's markets loaded from its fixture."""
    markets = (FIXTURES / exchange / f"{MARKETS_FIXTURE[exchange]}.json").read_bytes()
    loading = Served(exchange, lambda decoder: markets)
    await loading.ex.load_markets()
    loading.answer = answer
    return loading


async def outcome(exchange: str, name: str, answer: Callable[[Any], bytes]) -> Any:
    """What calling ``name`` on answers from ``answer`` returned; raises AssertionError if it
    raised anything but an ExconnError, returned a non-finite Decimal, or hung."""
    connector = (await served(exchange, answer)).ex
    call = unified_calls(next(iter((await connector.load_markets()).values())))[name]
    try:
        result = await asyncio.wait_for(call(connector), SECONDS_PER_CALL)
    except TimeoutError:
        raise AssertionError(f"{exchange}.{name} did not finish in {SECONDS_PER_CALL} s") from None
    except ExconnError as exc:
        return exc
    except Exception as exc:  # hypothesis' own signals are BaseExceptions and pass through
        raise AssertionError(f"untyped {type(exc).__name__} at {raised_at(exc)}: {exc}") from exc
    assert_finite(result, f"{exchange}.{name}")
    return result


def raised_at(error: BaseException) -> str:
    """``file:line`` of the innermost frame of our code (not the tests) in the traceback."""
    where = "?"
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(ROOT) and not path.is_relative_to(ROOT / "tests"):
            where = f"{path.relative_to(ROOT)}:{line}"
    return where


def assert_finite(value: Any, where: str) -> None:
    """Every Decimal in a result (models, lists, tuples, dicts of them) is a finite number."""
    if isinstance(value, Decimal):
        assert value.is_finite(), f"{where} returned {value}"
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            assert_finite(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            assert_finite(item, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_finite(item, f"{where}[{key!r}]")
