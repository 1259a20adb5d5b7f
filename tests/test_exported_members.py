"""Each package exports exactly what we mean to support (the public API of DESIGN.md)."""

import importlib

import pytest

EXPECTED = {
    "core": {
        "Market", "Currency", "Ticker", "BookLevel", "OrderBook", "Trade", "Order", "Balance", "Candle",
        "Transfer", "DepositAddress",
        "ExconnError", "ExchangeError", "AuthenticationError", "InvalidNonce", "PermissionDenied", "RateLimited",
        "InsufficientFunds", "InvalidOrder", "OrderNotFound", "BadSymbol", "BadRequest", "NotSupported",
        "NetworkError", "RequestTimeout", "ExchangeUnavailable", "BadResponse", "CoordinationUnavailable",
        "OutcomeUnknown",
    },
    "connectors": {"open", "connector_class", "EXCHANGES", "Connector", "BtcAlpha", "CoinDCX", "Peatio", "QTrade",
                   "Quidax"},
    "streams": {"open_book", "BtcAlphaBookFeed", "PollingFeed", "LocalBook", "LevelBook", "BookOrder",
                "LevelUpdate", "BookSnapshot"},
    "sandbox": {"Sandbox", "EXCHANGES", "Venue", "Faults"},
}


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_all_lists_exactly_the_public_names_and_each_resolves(package):
    module = importlib.import_module(package)
    assert set(module.__all__) == EXPECTED[package]
    assert len(module.__all__) == len(set(module.__all__))
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_every_exchange_id_of_the_design_is_registered_with_its_class():
    import connectors

    assert connectors.EXCHANGES == ("btcalpha", "coindcx", "peatio", "qtrade", "quidax")
    classes = {ex: connectors.connector_class(ex) for ex in connectors.EXCHANGES}
    assert {ex: cls.__name__ for ex, cls in classes.items()} == {
        "btcalpha": "BtcAlpha", "coindcx": "CoinDCX", "peatio": "Peatio", "qtrade": "QTrade", "quidax": "Quidax"}
    for ex, cls in classes.items():
        assert cls.id == ex and getattr(connectors, cls.__name__) is cls
