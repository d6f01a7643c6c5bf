import logging
import re

from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib import logs

CARD = "4111111111111111"


def test_events_are_json_with_safe_fields(captured_logs):
    log = logs.get_logger("test")
    logs.log_event(log, "message_forwarded", contact_id="c0ffee-12", length=12, reason="OK")
    event = captured_logs.events()[-1]
    assert event["event"] == "message_forwarded"
    assert event["contact_id"] == "c0ffee-12"
    assert event["length"] == 12


def test_free_text_and_digit_runs_are_redacted(captured_logs):
    log = logs.get_logger("test")
    logs.log_event(log, "oops", text=f"my card is {CARD}", token=CARD, nested={"k": [CARD]})
    captured_logs.assert_absent(CARD, "my card")
    event = captured_logs.events()[-1]
    assert event["text"].startswith("<redacted:len=")


def test_third_party_messages_are_reduced_to_length(captured_logs):
    logging.getLogger("botocore.endpoint").warning("request body %s", CARD)
    captured_logs.assert_absent(CARD)
    event = captured_logs.events()[-1]
    assert event["event"] == "library_log"


def test_errors_are_logged_by_code_only(captured_logs):
    try:
        raise ValueError(f"bad value {CARD}")
    except ValueError as exc:
        logs.log_error(logs.get_logger("test"), "failed", exc)
    captured_logs.assert_absent(CARD)
    assert captured_logs.events()[-1]["error"] == "ValueError"


@given(st.text())
@example("\u0664\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661")  # Arabic-Indic digits
@example("\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11")  # fullwidth digits
@example("card-4111-1111-1111-1111")
def test_safe_value_never_passes_long_digit_runs(value):
    # Checked on the value itself: json.dumps would escape non-ASCII digits to \uXXXX, hiding them.
    safe = logs.safe_value(value)
    assert not any(len(run) >= 7 for run in re.findall(r"\d+", safe))
    assert " " not in safe or safe.startswith("<redacted")


def test_uuids_pass_even_with_long_digit_runs(captured_logs):
    contact = "12345678-1234-4234-8234-123456789012"
    logs.log_event(logs.get_logger("test"), "chat_started", contact_id=contact, other="x1234567890123456")
    event = captured_logs.events()[-1]
    assert event["contact_id"] == contact
    assert event["other"].startswith("<redacted")


def test_formatted_numbers_and_emails_are_redacted(captured_logs):
    values = ["4111-1111-1111-1111", "123-45-6789", "+1-555-123-4567", "john.doe@example.com", "4111.1111.1111.1111"]
    logs.log_event(logs.get_logger("test"), "values", logging.INFO, **{f"v{i}": v for i, v in enumerate(values)})
    captured_logs.assert_absent(*values)
    event = captured_logs.events()[-1]
    assert all(event[f"v{i}"].startswith("<redacted") for i in range(len(values)))


def test_ids_codes_and_versions_still_pass():
    for value in ("chat_started", "m_abc123", "7.0", "ThrottlingException", "a5ecd749-4bd8-4a94-bfde-27eefe4f12b1"):
        assert logs.safe_value(value) == value
