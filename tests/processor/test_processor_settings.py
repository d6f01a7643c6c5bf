"""The settings the message processor issue names: PROCESSOR_ON_ERROR, PROCESSOR_REJECT_ENTITY_TYPES,
MESSENGER_USE_PROCESSOR; every error starts with its variable's name."""

from __future__ import annotations

import pytest

from chalicelib.settings import MessagingSettings, ProcessorSettings, SettingsError, _Reader

MESSAGING = {
    "CONNECT_INSTANCE_ID": "11111111-2222-3333-4444-555555555555",
    "CONNECT_CONTACT_FLOW_ID": "66666666-7777-8888-9999-000000000000",
    "CONNECT_STREAMING_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
    "SESSIONS_TABLE": "s",
    "MESSENGER_SECRET_ID": "m",
}


def processor(**env: str) -> ProcessorSettings:
    return ProcessorSettings.parse(_Reader({"SESSIONS_TABLE": "s", **env}))


def test_defaults_fail_closed_and_reject_nothing_outright():
    current = processor()
    assert current.on_error == "reject" and current.reject_entity_types == frozenset()


def test_values_are_read():
    current = processor(PROCESSOR_ON_ERROR="Approve", PROCESSOR_REJECT_ENTITY_TYPES="credit_debit_number, SSN")
    assert current.on_error == "approve"
    assert current.reject_entity_types == {"CREDIT_DEBIT_NUMBER", "SSN"}


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"PROCESSOR_ON_ERROR": "sometimes"}, "PROCESSOR_ON_ERROR"),
        ({"PROCESSOR_REJECT_ENTITY_TYPES": "CREDIT_CARD"}, "PROCESSOR_REJECT_ENTITY_TYPES"),
        ({"SESSIONS_TABLE": ""}, "SESSIONS_TABLE"),
    ],
)
def test_errors_name_the_variable(env, variable):
    with pytest.raises(SettingsError) as error:
        processor(**env)
    assert error.value.variable == variable


@pytest.mark.parametrize("value, expected", [(None, False), ("true", True), ("off", False)])
def test_messenger_use_processor_is_a_flag(value, expected):
    env = dict(MESSAGING, **({"MESSENGER_USE_PROCESSOR": value} if value else {}))
    assert MessagingSettings.parse(_Reader(env)).use_processor is expected
    with pytest.raises(SettingsError, match="MESSENGER_USE_PROCESSOR"):
        MessagingSettings.parse(_Reader(dict(MESSAGING, MESSENGER_USE_PROCESSOR="maybe")))
