"""The outbound settings: defaults, parsing, and errors that name the variable."""

import pytest

from chalicelib.settings import DEFAULT_SCAN_EXTENSIONS, MessagingSettings, SettingsError, _Reader
from tests.support import LOCAL_STAGE


def messaging(**extra):
    return MessagingSettings.parse(_Reader({**LOCAL_STAGE, **extra}))


def test_defaults():
    settings = messaging()
    assert settings.attachment_allowed_extensions == frozenset(DEFAULT_SCAN_EXTENSIONS.split(","))
    assert settings.attachment_url_expiry_seconds == 300
    assert settings.human_agent_tag is False
    assert settings.attachment_max_bytes == 20 * 1024 * 1024


def test_extensions_are_normalised():
    assert messaging(ATTACHMENT_ALLOWED_EXTENSIONS=" .PDF, png ,,jpg").attachment_allowed_extensions == {
        "pdf",
        "png",
        "jpg",
    }


@pytest.mark.parametrize("value", ["4", "301", "soon"])
def test_url_expiry_out_of_range_names_the_variable(value):
    with pytest.raises(SettingsError) as raised:
        messaging(ATTACHMENT_URL_EXPIRY_SECONDS=value)
    assert str(raised.value).startswith("ATTACHMENT_URL_EXPIRY_SECONDS") and value not in str(raised.value)
