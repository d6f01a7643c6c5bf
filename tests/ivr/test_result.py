"""The `$.External` result map and the IVR settings section."""

from __future__ import annotations

import re

import pytest

from chalicelib.ivr.result import Reason, failure, is_valid_value, success
from chalicelib.settings import IvrSettings, SettingsError, _Reader

CONNECT_SAFE = re.compile(r"^[A-Za-z0-9_-]*$")  # what Connect wants in a returned value


def test_success_map():
    assert success("4111111111111111", include_value=True) == {
        "Status": "OK",
        "Value": "4111111111111111",
        "Length": "16",
        "Last4": "1111",
        "LuhnValid": "true",
    }
    assert success("4111111111111111", include_value=False) == {
        "Status": "OK",
        "Length": "16",
        "Last4": "1111",
        "LuhnValid": "true",
    }


@pytest.mark.parametrize("value", ["1", "1234", "123456789"])
def test_short_values_have_no_last4(value):
    assert "Last4" not in success(value, include_value=False)


def test_every_reason_is_a_connect_safe_code():
    for reason in Reason:
        result = failure(reason)
        assert result == {"Status": "ERROR", "Reason": reason.value}
        assert all(CONNECT_SAFE.match(value) for value in result.values())


@pytest.mark.parametrize(
    "value, valid",
    [
        ("0", True),
        ("1" * 64, True),
        ("", False),
        ("1" * 65, False),
        ("12a", False),
        ("١٢٣", False),  # Arabic-Indic
        ("12 3", False),
        ("+123", False),
        ("12#", False),
    ],
)
def test_valid_values_are_ascii_digits_only(value, valid):
    assert is_valid_value(value) is valid


def ivr(**env: str) -> IvrSettings:
    return IvrSettings.parse(_Reader(env))


def test_settings_defaults():
    config = ivr()
    assert config.keys_path == "/connect-guard/ivr-keys/"
    assert (config.key_cache_seconds, config.key_refresh_min_seconds, config.max_ciphertext_chars) == (900, 10, 4096)
    assert config.return_value is True and config.key_validation == "full"
    assert config.legacy_key_parameter is None and config.legacy_key_id_parameter is None


def test_settings_path_gets_its_trailing_slash():
    assert ivr(IVR_KEYS_PATH="/prod/connect-keys").keys_path == "/prod/connect-keys/"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"IVR_KEYS_PATH": "connect-keys/"}, "IVR_KEYS_PATH"),
        ({"IVR_KEYS_PATH": "/connect keys/"}, "IVR_KEYS_PATH"),
        ({"IVR_LEGACY_KEY_PARAMETER": "CONNECT_INPUT_DECRYPTION_KEY"}, "IVR_LEGACY_KEY_PARAMETER"),
        ({"IVR_LEGACY_KEY_ID_PARAMETER": "CONNECT_INPUT_KEY_ID"}, "IVR_LEGACY_KEY_PARAMETER"),
        ({"IVR_LEGACY_KEY_PARAMETER": "a b", "IVR_LEGACY_KEY_ID_PARAMETER": "c"}, "IVR_LEGACY_KEY_PARAMETER"),
        ({"IVR_MAX_CIPHERTEXT_CHARS": "10"}, "IVR_MAX_CIPHERTEXT_CHARS"),
        ({"IVR_KEY_CACHE_SECONDS": "-1"}, "IVR_KEY_CACHE_SECONDS"),
        ({"IVR_RETURN_VALUE": "maybe"}, "IVR_RETURN_VALUE"),
        ({"IVR_KEY_VALIDATION": "none"}, "IVR_KEY_VALIDATION"),
    ],
)
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(SettingsError) as error:
        ivr(**env)
    assert str(error.value).split()[0] == variable
