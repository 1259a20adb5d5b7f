"""Quidax (https://www.quidax.com/api/v2, withdrawals through /api/v1)."""

from connectors.quidax.client import Quidax

__all__ = ["Quidax"]
