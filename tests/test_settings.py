import pytest

from chalicelib import settings


def _settings(monkeypatch, **env):
    for key in [k for k in __import__("os").environ if k.startswith(settings._PREFIXES)]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings.load()


def test_local_stage_messaging_settings_parse(monkeypatch, stage_env):
    current = settings.load()
    assert current.messaging.sessions_table == stage_env["SESSIONS_TABLE"]
    assert current.messaging.graph_api_url == "https://graph.facebook.com/v25.0"
    assert current.messaging.chat_duration_minutes == 1500


def test_missing_required_variable_names_it(monkeypatch):
    current = _settings(monkeypatch, CONNECT_INSTANCE_ID="abc")
    with pytest.raises(settings.SettingsError, match="CONNECT_STREAMING_TOPIC_ARN"):
        current.messaging


def test_malformed_values_fail_fast_without_echoing_the_value(monkeypatch):
    current = _settings(monkeypatch, PII_MIN_SCORE="high-secret-value")
    with pytest.raises(settings.SettingsError) as info:
        current.redaction
    assert "PII_MIN_SCORE" in str(info.value)
    assert "high-secret-value" not in str(info.value)
    assert info.value.variable == "PII_MIN_SCORE"


def test_the_logged_variable_is_a_variable_name_or_nothing():
    assert settings.SettingsError("IVR_KEYS_PATH must be an SSM parameter path").variable == "IVR_KEYS_PATH"
    assert settings.SettingsError("jane@example.com is not valid").variable is None
    assert settings.SettingsError("").variable is None


def test_instance_arn_is_refused(monkeypatch, stage_env):
    monkeypatch.setenv("CONNECT_INSTANCE_ID", "arn:aws:connect:us-east-1:123456789012:instance/abc")
    with pytest.raises(settings.SettingsError, match="not its ARN"):
        settings.load().messaging


def test_sections_are_independent(monkeypatch):
    current = _settings(monkeypatch)
    assert current.scanner.max_bytes == 20 * 1024 * 1024
    assert "pdf" in current.scanner.allowed_extensions
    assert current.ivr.keys_path == "/connect-guard/ivr-keys/"
    with pytest.raises(settings.SettingsError):
        current.messaging


def test_defaults_for_redaction(monkeypatch):
    current = _settings(monkeypatch)
    assert current.redaction.engine == "local"
    assert "CREDIT_DEBIT_NUMBER" in current.redaction.entity_types
    assert "SWIFT_CODE" not in current.redaction.entity_types
    assert current.redaction.outbound_entity_types == frozenset()


def test_engine_choice_is_validated(monkeypatch):
    with pytest.raises(settings.SettingsError, match="PII_ENGINE"):
        _settings(monkeypatch, PII_ENGINE="magic").redaction


def test_load_is_cached_per_snapshot(monkeypatch):
    first = _settings(monkeypatch, LOG_LEVEL="debug")
    assert settings.load() is first
    assert first.log_level == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert settings.load() is not first
