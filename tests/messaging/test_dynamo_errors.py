"""DynamoDB failures as the session store sees them: a lost condition is an answer, the rest domain errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError

from chalicelib.messaging.errors import ConfigurationError, TransientError
from chalicelib.messaging.store.table import Table


def client_error(code: str, status: int = 400, reasons: list[str] | None = None) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "item pk=psid-canary"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "Operation")


class Failing:
    def __init__(self, exc: Exception):
        self._exc = exc

    def __getattr__(self, _name):
        def call(**_request):
            raise self._exc

        return call


def table(exc: Exception) -> Table:
    return Table(Failing(exc), "sessions")


def test_a_failed_condition_is_false_not_an_error():
    assert (
        table(client_error("ConditionalCheckFailedException")).put({"pk": "a"}, "attribute_not_exists(pk)", None)
        is False
    )
    canceled = client_error("TransactionCanceledException", reasons=["None", "ConditionalCheckFailed"])
    assert table(canceled).transact_put(({"pk": "a"}, None, None)) is False


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("InternalServerError", 500),
        client_error("TransactionCanceledException", reasons=["TransactionConflict"]),
        ConnectTimeoutError(endpoint_url="https://dynamodb.test"),
    ],
)
def test_throttling_outages_and_lost_races_are_transient(exc):
    with pytest.raises(TransientError) as info:
        table(exc).get("a", now=0.0)
    assert info.value.reason == "sessions_unavailable"


@pytest.mark.parametrize("code", ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"])
def test_what_fails_every_message_is_a_configuration_error(code):
    with pytest.raises(ConfigurationError) as info:
        table(client_error(code)).get("a", now=0.0)
    assert (info.value.reason, info.value.code) == ("sessions_unusable", code)
    assert "canary" not in str(info.value)
