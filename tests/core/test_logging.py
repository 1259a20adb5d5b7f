import logging

from core.credentials import Credentials
from core.logging import REDACTED, get_logger, is_secret_name, redact_processor


def test_credential_named_fields_are_redacted_at_any_depth():
    event = redact_processor(None, "info", {
        "event": "x", "secret": "s", "headers": {"X-SIGN": "abc", "Accept": "json"},
        "params": [{"signature": "def", "market": "btcngn"}], "path": "/v1",
    })
    assert event["secret"] == REDACTED and event["headers"]["X-SIGN"] == REDACTED
    assert event["headers"]["Accept"] == "json" and event["params"][0]["signature"] == REDACTED
    assert event["params"][0]["market"] == "btcngn" and event["path"] == "/v1"


def test_header_and_param_names_of_all_five_exchanges_are_secret():
    for name in ("X-KEY", "X-SIGN", "X-AUTH-APIKEY", "X-AUTH-SIGNATURE", "X-Auth-Apikey", "X-Auth-Signature",
                 "Authorization", "access_key", "signature", "secret", "api_key"):
        assert is_secret_name(name), name
    for name in ("X-NONCE", "HMAC-Timestamp", "tonce", "market", "price", "path"):
        assert not is_secret_name(name), name


def test_logger_is_silent_until_enabled_and_never_prints_secrets(caplog):
    log = get_logger("test")
    log.info("quiet")  # no handler configured: nothing recorded at the default WARNING level
    assert "quiet" not in caplog.text
    caplog.set_level(logging.INFO, logger="exconn")
    log.info("request", api_key="KEYVALUE", secret="SECRETVALUE", market="BTC_USD")
    assert "KEYVALUE" not in caplog.text and "SECRETVALUE" not in caplog.text and "BTC_USD" in caplog.text


def test_credentials_never_show_the_secret():
    creds = Credentials("mykey-1234567890", "mysecret-abcdef")
    for text in (repr(creds), str(creds), f"{creds}"):
        assert "mysecret" not in text and "mykey" not in text
    assert creds.key == "mykey-1234567890" and creds.secret == "mysecret-abcdef"
