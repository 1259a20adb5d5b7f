"""API credentials from arguments, the environment or a private TOML file — nowhere else.

    key, secret = load_credentials("btcalpha")          # EXCONN_BTCALPHA_KEY / EXCONN_BTCALPHA_SECRET
    key, secret = load_credentials("peatio", "~/.config/exconn/credentials.toml")
    async with connectors.open("peatio", key=key, secret=secret) as ex: ...

The first source that has the exchange wins: ``key``/``secret`` arguments, then the
environment, then the file (``path``, else ``$EXCONN_CREDENTIALS``, else
``~/.config/exconn/credentials.toml`` when it exists). The file holds one table per exchange::

    [btcalpha]
    key = "…"
    secret = "…"

Like ssh with a private key, a file that another user could read or change is refused: it
must belong to the current user and have no group or other permission bits (``chmod 600``).
No message ever contains a key or a secret; every failure is an :class:`AuthenticationError`.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

from core.errors import AuthenticationError

__all__ = ["load_credentials", "DEFAULT_CREDENTIALS_FILE", "CREDENTIALS_FILE_ENV"]

DEFAULT_CREDENTIALS_FILE = Path("~/.config/exconn/credentials.toml")
CREDENTIALS_FILE_ENV = "EXCONN_CREDENTIALS"


def load_credentials(
    exchange: str,
    path: str | os.PathLike[str] | None = None,
    *,
    key: str | None = None,
    secret: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """``(key, secret)`` for ``exchange`` from the arguments, the environment or the file;
    AuthenticationError when none has them, when a source has only one of the two, or when
    the file is readable or writable by someone else."""
    env = os.environ if environ is None else environ
    if key is not None or secret is not None:
        return _pair(exchange, key, secret, "the key and secret arguments")
    prefix = f"EXCONN_{exchange.upper()}_"
    env_key, env_secret = env.get(prefix + "KEY"), env.get(prefix + "SECRET")
    if env_key is not None or env_secret is not None:
        return _pair(exchange, env_key, env_secret, f"{prefix}KEY and {prefix}SECRET")
    file = _credentials_file(path, env)
    if file is None:
        raise AuthenticationError(
            f"no credentials for {exchange}: pass key and secret, set {prefix}KEY and {prefix}SECRET, "
            f"or write them to {DEFAULT_CREDENTIALS_FILE} (mode 600)", exchange=exchange)
    table = _read_private_toml(file, exchange).get(exchange)
    if not isinstance(table, dict):
        raise AuthenticationError(f"{file} has no [{exchange}] table", exchange=exchange)
    return _pair(exchange, table.get("key"), table.get("secret"), f"[{exchange}] of {file}")


def _pair(exchange: str, key: object, secret: object, source: str) -> tuple[str, str]:
    if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
        raise AuthenticationError(f"{source} must give both a key and a secret, as non-empty strings",
                                  exchange=exchange)
    return key, secret


def _credentials_file(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """The file to read: the one asked for, else the environment's, else the default if it exists."""
    if path is not None:
        return Path(path).expanduser()
    if env.get(CREDENTIALS_FILE_ENV):
        return Path(env[CREDENTIALS_FILE_ENV]).expanduser()
    default = DEFAULT_CREDENTIALS_FILE.expanduser()
    return default if default.exists() else None


def _read_private_toml(file: Path, exchange: str) -> dict[str, object]:
    """The parsed file, checked on the open descriptor (no window to swap the file between
    the check and the read)."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise AuthenticationError(f"cannot read {file}: {exc.strerror}", exchange=exchange) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if os.name == "posix":
            if not stat.S_ISREG(info.st_mode):
                raise AuthenticationError(f"{file} is not a regular file", exchange=exchange)
            if info.st_mode & 0o077:
                raise AuthenticationError(
                    f"refusing {file}: its mode {stat.filemode(info.st_mode)} lets group or others read or "
                    f"change it; run: chmod 600 {file}", exchange=exchange)
            if info.st_uid != os.getuid():
                raise AuthenticationError(f"refusing {file}: it belongs to uid {info.st_uid}, not to you",
                                          exchange=exchange)
        try:
            return tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:  # its message names a line and column, never the text
            raise AuthenticationError(f"{file} is not valid TOML: {exc}", exchange=exchange) from None
