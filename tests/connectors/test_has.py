"""``has`` tells the truth for every connector: True exactly where a method is implemented,
and every False comes with a reason raised as NotSupported."""

import pytest

import connectors
from core.connector import UNIFIED_METHODS, Connector
from core.errors import NotSupported


@pytest.mark.parametrize("exchange", connectors.EXCHANGES)
def test_has_true_exactly_where_the_connector_implements_the_method(exchange):
    cls = connectors.connector_class(exchange)
    for method in UNIFIED_METHODS:
        if method == "create_market_order":
            continue  # a type of create_order, checked by check_order
        implemented = method == "load_markets" and "_fetch_markets" in vars(cls) or (
            getattr(cls, method) is not getattr(Connector, method))
        assert cls.has[method] == implemented, f"{exchange}.{method}: has={cls.has[method]}, implemented={implemented}"


@pytest.mark.parametrize("exchange", connectors.EXCHANGES)
async def test_unsupported_methods_raise_not_supported_with_the_reason(exchange):
    async with connectors.open(exchange) as ex:
        for method, reason in ex.not_supported.items():
            if method == "create_market_order":
                continue
            call = getattr(ex, method)
            args = {"fetch_deposit_address": ("BTC",), "withdraw": ("BTC", 1, "addr")}.get(method, ())
            with pytest.raises(NotSupported) as info:
                await call(*args)
            assert reason in str(info.value) and info.value.exchange == exchange


@pytest.mark.parametrize("exchange", connectors.EXCHANGES)
def test_emulated_methods_are_supported_and_say_how(exchange):
    cls = connectors.connector_class(exchange)
    for method, how in cls.emulated.items():
        assert cls.has[method] and how
