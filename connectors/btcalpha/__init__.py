"""BTC-Alpha (https://btc-alpha.com/api/v1/)."""

from connectors.btcalpha.client import BtcAlpha

__all__ = ["BtcAlpha"]
