"""`ivr_decryptor` through the Chalice test client, with SSM in moto: what a contact flow sees."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from tests.ivr.vectors import FIXTURE_PLAINTEXT, flip_byte, flow_event, put_key
from tests.support import PROJECT_DIR


def invoke(client, event) -> dict:
    return client.lambda_.invoke("ivr_decryptor", event).payload


def events_named(captured_logs, name: str) -> list[dict]:
    return [event for event in captured_logs.events() if event["event"] == name]


def test_real_connect_ciphertext_decrypts(chalice_client, ssm, fixture_key, fixture_ciphertext, captured_logs):
    put_key(ssm, fixture_key)

    result = invoke(chalice_client, flow_event(fixture_ciphertext))

    assert result == {"Status": "OK", "Value": FIXTURE_PLAINTEXT, "Length": "12", "Last4": "7789", "LuhnValid": "false"}
    assert all(isinstance(value, str) for value in result.values())
    captured_logs.assert_absent(FIXTURE_PLAINTEXT, fixture_ciphertext[:24], fixture_key.private_pem.decode()[40:80])
    (decrypted,) = events_named(captured_logs, "ivr_decrypted")
    assert decrypted["key_id"] == fixture_key.key_id and decrypted["length"] == 12


def test_fast_key_validation_decrypts_the_same(chalice_client, ssm, fixture_key, fixture_ciphertext, monkeypatch):
    put_key(ssm, fixture_key)
    monkeypatch.setenv("IVR_KEY_VALIDATION", "fast")

    assert invoke(chalice_client, flow_event(fixture_ciphertext))["Value"] == FIXTURE_PLAINTEXT


def test_metadata_only_when_value_is_not_returned(chalice_client, ssm, fixture_key, monkeypatch):
    put_key(ssm, fixture_key)
    monkeypatch.setenv("IVR_RETURN_VALUE", "false")
    card = "4111111111111111"

    result = invoke(chalice_client, flow_event(fixture_key.encrypt(card)))

    assert result == {"Status": "OK", "Length": "16", "Last4": "1111", "LuhnValid": "true"}


def test_short_values_never_echo_digits_in_metadata(chalice_client, ssm, fixture_key, monkeypatch):
    put_key(ssm, fixture_key)
    monkeypatch.setenv("IVR_RETURN_VALUE", "false")

    result = invoke(chalice_client, flow_event(fixture_key.encrypt("4821")))

    assert result == {"Status": "OK", "Length": "4", "LuhnValid": "false"}


@pytest.mark.parametrize("where", ["EncryptedInput", "EncryptedCreditCard", "attribute"])
def test_other_documented_input_places(chalice_client, ssm, fixture_key, fixture_ciphertext, where):
    put_key(ssm, fixture_key)
    event = flow_event(None)
    if where == "attribute":  # the AWS blog's flow copies the ciphertext into a contact attribute
        event["Details"]["ContactData"]["Attributes"]["EncryptedCreditCard"] = fixture_ciphertext
    else:
        event["Details"]["Parameters"][where] = fixture_ciphertext

    assert invoke(chalice_client, event)["Value"] == FIXTURE_PLAINTEXT


def test_two_active_keys_both_decrypt_with_one_key_fetch(chalice_client, ssm, fixture_key, second_key, captured_logs):
    put_key(ssm, fixture_key)
    put_key(ssm, second_key)

    old = invoke(chalice_client, flow_event(fixture_key.encrypt("4000056655665556")))
    new = invoke(chalice_client, flow_event(second_key.encrypt("5555555555554444")))
    again = invoke(chalice_client, flow_event(fixture_key.encrypt("4000056655665556")))

    assert (old["Value"], new["Value"], again["Value"]) == ("4000056655665556", "5555555555554444", "4000056655665556")
    assert len(events_named(captured_logs, "ivr_keys_loaded")) == 1
    assert len(events_named(captured_logs, "ivr_key_parsed")) == 2  # each PEM parsed once


def test_key_added_after_start_is_found_by_one_refresh(
    chalice_client, ssm, fixture_key, second_key, monkeypatch, captured_logs
):
    monkeypatch.setenv("IVR_KEY_REFRESH_MIN_SECONDS", "0")
    put_key(ssm, fixture_key)
    assert invoke(chalice_client, flow_event(fixture_key.encrypt("1234567890")))["Status"] == "OK"

    put_key(ssm, second_key)  # rotation: the new key goes live while containers are warm
    result = invoke(chalice_client, flow_event(second_key.encrypt("1234567890")))

    assert result["Status"] == "OK"
    assert len(events_named(captured_logs, "ivr_keys_loaded")) == 2


def test_unknown_key_id_refreshes_once_then_fails_clearly(
    chalice_client, ssm, fixture_key, second_key, monkeypatch, captured_logs
):
    monkeypatch.setenv("IVR_KEY_REFRESH_MIN_SECONDS", "0")
    put_key(ssm, fixture_key)
    invoke(chalice_client, flow_event(fixture_key.encrypt("1234567890")))
    assert len(events_named(captured_logs, "ivr_keys_loaded")) == 1

    result = invoke(chalice_client, flow_event(second_key.encrypt("1234567890")))  # its key is not in SSM

    assert result == {"Status": "ERROR", "Reason": "UNKNOWN_KEY"}
    assert len(events_named(captured_logs, "ivr_keys_loaded")) == 2
    (rejected,) = events_named(captured_logs, "ivr_rejected")
    assert rejected["reason"] == "UNKNOWN_KEY" and rejected["key_id"] == second_key.key_id


def test_published_two_parameter_convention(chalice_client, ssm, fixture_key, fixture_ciphertext, monkeypatch):
    ssm.put_parameter(Name="CONNECT_INPUT_DECRYPTION_KEY", Value=fixture_key.private_pem.decode(), Type="SecureString")
    ssm.put_parameter(Name="CONNECT_INPUT_KEY_ID", Value=fixture_key.key_id, Type="SecureString")
    monkeypatch.setenv("IVR_LEGACY_KEY_PARAMETER", "CONNECT_INPUT_DECRYPTION_KEY")
    monkeypatch.setenv("IVR_LEGACY_KEY_ID_PARAMETER", "CONNECT_INPUT_KEY_ID")

    assert invoke(chalice_client, flow_event(fixture_ciphertext))["Value"] == FIXTURE_PLAINTEXT


def test_tampered_body_fails_authentication(chalice_client, ssm, fixture_key, fixture_ciphertext, captured_logs):
    put_key(ssm, fixture_key)
    footer, tag, content = 2 + 103, 16, 12  # signature block, GCM tag, 12 encrypted digits
    tampered = flip_byte(fixture_ciphertext, len(base64.b64decode(fixture_ciphertext)) - footer - tag - content + 3)

    result = invoke(chalice_client, flow_event(tampered))

    assert result == {"Status": "ERROR", "Reason": "DECRYPT_FAILED"}
    assert events_named(captured_logs, "ivr_rejected")[0]["error"] == "InvalidTag"
    captured_logs.assert_absent("Traceback", "Error on closing", tampered[:24])


def test_tampered_signature_fails_authentication(chalice_client, ssm, fixture_key, fixture_ciphertext, captured_logs):
    put_key(ssm, fixture_key)
    tampered = flip_byte(fixture_ciphertext, len(base64.b64decode(fixture_ciphertext)) - 10)

    result = invoke(chalice_client, flow_event(tampered))

    assert result == {"Status": "ERROR", "Reason": "DECRYPT_FAILED"}
    assert events_named(captured_logs, "ivr_rejected")[0]["error"] == "InvalidSignature"
    captured_logs.assert_absent("Traceback", "Error on closing", FIXTURE_PLAINTEXT)


@pytest.mark.parametrize(
    "ciphertext, reason",
    [
        (None, "MISSING_INPUT"),
        ("", "MISSING_INPUT"),
        ("A" * 4097, "TOO_LARGE"),
        ("not base64 at all!", "MALFORMED"),
        ("AYADeO==", "MALFORMED"),
        (base64.b64encode(b"\x01\x80\x03\x78" + b"\x00" * 10).decode(), "MALFORMED"),
    ],
)
def test_bad_input_is_refused_before_any_key_work(chalice_client, ssm, ciphertext, reason, captured_logs):
    assert invoke(chalice_client, flow_event(ciphertext)) == {"Status": "ERROR", "Reason": reason}
    assert events_named(captured_logs, "ivr_keys_loaded") == []


@pytest.mark.parametrize(
    "event", [None, [], "text", 42, {"Details": "x"}, {"Details": {"Parameters": {"EncryptedValue": 7}}}]
)
def test_events_of_the_wrong_shape(chalice_client, event):
    assert invoke(chalice_client, event) == {"Status": "ERROR", "Reason": "MISSING_INPUT"}


def test_ssm_access_denied_is_key_unavailable(chalice_client, fixture_ciphertext, captured_logs):
    from botocore.stub import Stubber

    from chalicelib import aws

    stubber = Stubber(aws.client("ssm"))
    stubber.add_client_error("get_parameters_by_path", "AccessDeniedException", http_status_code=400)
    with stubber:
        result = invoke(chalice_client, flow_event(fixture_ciphertext))

    assert result == {"Status": "ERROR", "Reason": "KEY_UNAVAILABLE"}
    assert events_named(captured_logs, "ivr_rejected")[0]["error"] == "AccessDeniedException"


def test_ssm_unreachable_is_key_unavailable(chalice_client, fixture_ciphertext, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # nothing listens on the discard port

    assert invoke(chalice_client, flow_event(fixture_ciphertext)) == {"Status": "ERROR", "Reason": "KEY_UNAVAILABLE"}


def test_stored_key_that_is_not_a_private_key(chalice_client, ssm, fixture_key, fixture_ciphertext, captured_logs):
    ssm.put_parameter(
        Name="/connect-guard/ivr-keys/" + fixture_key.key_id, Value=fixture_key.public_pem.decode(), Type="SecureString"
    )

    assert invoke(chalice_client, flow_event(fixture_ciphertext)) == {"Status": "ERROR", "Reason": "KEY_UNAVAILABLE"}
    assert events_named(captured_logs, "ivr_key_rejected")[0]["key_id"] == fixture_key.key_id
    captured_logs.assert_absent(fixture_key.public_pem.decode()[40:80])


def test_decrypted_value_that_is_not_digits(chalice_client, ssm, fixture_key):
    put_key(ssm, fixture_key)

    result = invoke(chalice_client, flow_event(fixture_key.encrypt("12ab")))

    assert result == {"Status": "ERROR", "Reason": "INVALID_VALUE"}


def test_connect_retry_of_the_same_event(chalice_client, ssm, fixture_key, fixture_ciphertext, captured_logs):
    """Connect retries a failed or slow invocation: the same event twice gives the same answer, keys stay cached."""
    put_key(ssm, fixture_key)

    first = invoke(chalice_client, flow_event(fixture_ciphertext))
    second = invoke(chalice_client, flow_event(fixture_ciphertext))

    assert first == second and first["Status"] == "OK"
    assert len(events_named(captured_logs, "ivr_key_parsed")) == 1


@pytest.mark.parametrize("sdk_level", ["as shipped", "DEBUG"])
def test_canary_digits_never_reach_any_log(chalice_client, ssm, fixture_key, captured_logs, sdk_level):
    import logging

    from chalicelib.ivr import esdk  # noqa: F401  (sets the SDK's logger level on import)

    put_key(ssm, fixture_key)
    canary = "4929000011112222333"
    good = fixture_key.encrypt(canary)
    sdk_logger = logging.getLogger("aws_encryption_sdk")
    shipped_level = sdk_logger.level
    if sdk_level == "DEBUG":  # even if someone turns the SDK's own logging all the way up
        sdk_logger.setLevel(logging.DEBUG)
    try:
        assert invoke(chalice_client, flow_event(good))["Value"] == canary
        invoke(chalice_client, flow_event(flip_byte(good, len(base64.b64decode(good)) - 10)))
        invoke(chalice_client, flow_event(flip_byte(good, len(base64.b64decode(good)) - 140)))
    finally:
        sdk_logger.setLevel(shipped_level)

    captured_logs.assert_absent(canary, canary[-8:], good[:24], good[-24:], "Traceback", "Error on closing")
    sdk_lines = [e for e in captured_logs.events() if e["logger"].startswith("aws_encryption_sdk")]
    assert (len(sdk_lines) > 0) == (sdk_level == "DEBUG")  # the SDK's records are captured when it emits any


def test_misconfigured_settings_give_a_code(chalice_client, monkeypatch, captured_logs):
    monkeypatch.setenv("IVR_LEGACY_KEY_PARAMETER", "CONNECT_INPUT_DECRYPTION_KEY")  # without its key id partner

    assert invoke(chalice_client, flow_event("AYAD")) == {"Status": "ERROR", "Reason": "MISCONFIGURED"}
    line = events_named(captured_logs, "settings_invalid")[0]
    assert (line["trigger"], line["variable"]) == ("ivr_decryptor", "IVR_LEGACY_KEY_PARAMETER")


def test_an_unexpected_bug_still_answers_with_a_code(chalice_client, monkeypatch, fixture_ciphertext):
    from chalicelib.ivr import decryptor

    def broken(self, request):
        raise RuntimeError("4111111111111111")

    monkeypatch.setattr(decryptor.Decryptor, "handle", broken)

    assert invoke(chalice_client, flow_event(fixture_ciphertext)) == {"Status": "ERROR", "Reason": "INTERNAL_ERROR"}


def test_importing_the_app_loads_no_crypto_and_no_sdk():
    code = (
        "import sys, app; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('aws_encryption_sdk', 'cryptography', 'boto3', 'botocore')]; "
        "print(json.dumps(heavy))"
    )
    output = subprocess.run(
        [sys.executable, "-c", "import json; " + code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == []


@pytest.mark.parametrize(
    "variant",
    [
        {"provider_id": "amazonconnect"},
        {"suite": "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"},
        {"suite": "AES_256_GCM_IV12_TAG16_HKDF_SHA256"},
        "two data keys",
    ],
)
def test_messages_connect_never_sends_are_refused_before_rsa(
    chalice_client, ssm, fixture_key, second_key, variant, captured_logs
):
    from tests.ivr.vectors import sdk_message

    put_key(ssm, fixture_key)
    put_key(ssm, second_key)
    text = (
        sdk_message(fixture_key, extra_key=second_key)
        if variant == "two data keys"
        else sdk_message(fixture_key, **variant)
    )

    assert invoke(chalice_client, flow_event(text)) == {"Status": "ERROR", "Reason": "UNSUPPORTED_FORMAT"}
    assert events_named(captured_logs, "ivr_keys_loaded") == []
