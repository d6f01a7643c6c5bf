import pytest

from chalicelib.settings import SettingsError
from tests.scanning.helpers import scanner_settings


def test_defaults_are_the_safe_choices():
    config = scanner_settings()
    assert "pdf" in config.allowed_extensions and "exe" not in config.allowed_extensions
    assert config.max_bytes == 20 * 1024 * 1024
    assert not (config.allow_encrypted_pdf or config.allow_csv_formulas)
    assert config.allow_unsupported_images  # HEIC and tiny images: unmoderated, still type/structure/antivirus checked
    assert config.moderation_enabled
    assert dict(config.moderation_categories) == {
        "Explicit": 80.0,
        "Violence": 80.0,
        "Visually Disturbing": 80.0,
        "Hate Symbols": 80.0,
    }


def test_per_category_thresholds():
    config = scanner_settings(
        MODERATION_CATEGORIES="Explicit:90, Drugs & Tobacco ,Violence:70.5", MODERATION_MIN_CONFIDENCE="60"
    )
    assert config.moderation_categories == (("Explicit", 90.0), ("Drugs & Tobacco", 60.0), ("Violence", 70.5))
    assert scanner_settings(MODERATION_CATEGORIES="").moderation_categories == ()


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"SCAN_ALLOWED_EXTENSIONS": "pdf,exe"}, "SCAN_ALLOWED_EXTENSIONS"),
        ({"SCAN_MAX_BYTES": "0"}, "SCAN_MAX_BYTES"),
        ({"SCAN_MAX_BYTES": "200000000"}, "SCAN_MAX_BYTES"),
        ({"SCAN_PDF_ENCRYPTED": "maybe"}, "SCAN_PDF_ENCRYPTED"),
        ({"SCAN_ZIP_MAX_RATIO": "x"}, "SCAN_ZIP_MAX_RATIO"),
        ({"MODERATION_CATEGORIES": "Explicit:high"}, "MODERATION_CATEGORIES"),
        ({"MODERATION_CATEGORIES": "Explicit:120"}, "MODERATION_CATEGORIES"),
        ({"MODERATION_ENABLED": "perhaps"}, "MODERATION_ENABLED"),
    ],
)
def test_malformed_settings_name_the_variable_not_the_value(env, variable):
    with pytest.raises(SettingsError) as caught:
        scanner_settings(**env)
    assert variable in str(caught.value)
    assert "high" not in str(caught.value) and "perhaps" not in str(caught.value)


def test_extensions_are_normalised():
    assert scanner_settings(SCAN_ALLOWED_EXTENSIONS=".PDF, png").allowed_extensions == frozenset({"pdf", "png"})


def test_antivirus_is_off_unless_chosen_and_clamav_needs_an_address():
    assert scanner_settings().antivirus == "off"
    config = scanner_settings(SCAN_ANTIVIRUS="clamav", SCAN_CLAMAV_ADDRESS="clamd.internal:3310")
    assert (config.antivirus, config.clamav_address) == ("clamav", "clamd.internal:3310")
    assert scanner_settings(SCAN_ANTIVIRUS="GuardDuty").antivirus == "guardduty"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"SCAN_ANTIVIRUS": "clamscan"}, "SCAN_ANTIVIRUS"),
        ({"SCAN_ANTIVIRUS": "clamav"}, "SCAN_CLAMAV_ADDRESS"),
        ({"SCAN_ANTIVIRUS": "clamav", "SCAN_CLAMAV_ADDRESS": "clamd.internal"}, "SCAN_CLAMAV_ADDRESS"),
        ({"SCAN_ANTIVIRUS": "clamav", "SCAN_CLAMAV_ADDRESS": "clamd:99999"}, "SCAN_CLAMAV_ADDRESS"),
    ],
)
def test_antivirus_settings_fail_fast(env, variable):
    with pytest.raises(SettingsError) as caught:
        scanner_settings(**env)
    assert str(caught.value).startswith(variable)
