"""Messenger secrets from Secrets Manager (moto): parsing, TTL cache, rate-limited forced refresh."""

from __future__ import annotations

import pytest
from moto import mock_aws

from chalicelib.messaging.errors import ConfigurationError, TransientError
from chalicelib.messaging.meta.secrets import MessengerCredentials, MessengerSecrets
from tests.messaging.fixtures import SECRET, SECRET_ID, create_messenger_secret, rotate_messenger_secret


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def secretsmanager():
    with mock_aws():
        create_messenger_secret()
        yield


def test_reads_and_caches_the_secret(secretsmanager):
    clock = Clock()
    secrets = MessengerSecrets(SECRET_ID, ttl_seconds=300, clock=clock)
    assert secrets.current().app_secret == SECRET["APP_SECRET"]
    rotate_messenger_secret({**SECRET, "APP_SECRET": "rotated"})
    clock.now += 299
    assert secrets.current().app_secret == SECRET["APP_SECRET"]  # still cached
    clock.now += 2
    assert secrets.current().app_secret == "rotated"  # TTL passed


def test_forced_refresh_is_rate_limited_and_reports_changes(secretsmanager):
    clock = Clock()
    secrets = MessengerSecrets(SECRET_ID, ttl_seconds=300, min_refresh_seconds=30, clock=clock)
    secrets.current()
    rotate_messenger_secret({**SECRET, "APP_SECRET": "rotated"})
    assert secrets.refresh() is None  # too soon after the last read
    clock.now += 31
    refreshed = secrets.refresh()
    assert refreshed is not None and refreshed.app_secret == "rotated"
    clock.now += 31
    assert secrets.refresh() is None  # nothing changed


def test_credentials_never_show_in_repr():
    credentials = MessengerCredentials.from_secret_string(__import__("json").dumps(SECRET))
    for value in SECRET.values():
        assert value not in repr(credentials)


@pytest.mark.parametrize(
    "secret_string, reason",
    [
        ("not json", "secret_not_json"),
        ("[1, 2]", "secret_not_json_object"),
        ('{"APP_SECRET": "a", "PAGE_TOKEN": "b"}', "secret_missing_verify_token"),
        ('{"APP_SECRET": "", "PAGE_TOKEN": "b", "VERIFY_TOKEN": 3}', "secret_missing_app_secret_verify_token"),
    ],
)
def test_malformed_secret_is_a_configuration_error(secret_string, reason):
    with pytest.raises(ConfigurationError) as info:
        MessengerCredentials.from_secret_string(secret_string)
    assert info.value.reason == reason


def test_missing_secret_is_a_configuration_error(secretsmanager):
    with pytest.raises(ConfigurationError) as info:
        MessengerSecrets("no-such-secret", ttl_seconds=300).current()
    assert info.value.code == "ResourceNotFoundException"


def test_throttling_is_transient():
    from botocore.exceptions import ClientError

    class Throttled:
        def get_secret_value(self, **_):
            raise ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": "slow down"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "GetSecretValue",
            )

    with pytest.raises(TransientError):
        MessengerSecrets(SECRET_ID, ttl_seconds=300, client_factory=Throttled).current()


def test_a_stale_value_is_served_while_secrets_manager_is_briefly_down(secretsmanager):
    from botocore.exceptions import ClientError

    clock = Clock()
    down = {"now": False}

    class Flaky:
        def get_secret_value(self, **request):
            if down["now"]:
                raise ClientError(
                    {
                        "Error": {"Code": "InternalServiceError", "Message": "m"},
                        "ResponseMetadata": {"HTTPStatusCode": 500},
                    },
                    "GetSecretValue",
                )
            from chalicelib import aws

            return aws.client("secretsmanager").get_secret_value(**request)

    secrets = MessengerSecrets(SECRET_ID, ttl_seconds=300, client_factory=Flaky, min_refresh_seconds=30, clock=clock)
    assert secrets.current().app_secret == SECRET["APP_SECRET"]
    down["now"] = True
    clock.now += 301
    assert secrets.current().app_secret == SECRET["APP_SECRET"]  # stale, not an outage
    down["now"] = False
    rotate_messenger_secret({**SECRET, "APP_SECRET": "rotated"})
    clock.now += 29
    assert secrets.current().app_secret == SECRET["APP_SECRET"]  # retried only after 30 s
    clock.now += 2
    assert secrets.current().app_secret == "rotated"


def test_refresh_during_a_secrets_manager_outage_learns_nothing_instead_of_failing(secretsmanager, monkeypatch):
    """A forged signature during an outage stays a 403 (nothing new to learn), not a 503."""
    clock = Clock()
    secrets = MessengerSecrets(SECRET_ID, ttl_seconds=300, min_refresh_seconds=30, clock=clock)
    secrets.current()
    clock.now += 31

    def down():
        raise TransientError("secret_unavailable")

    monkeypatch.setattr(secrets, "_fetch", down)
    assert secrets.refresh() is None
    assert secrets.current().app_secret == SECRET["APP_SECRET"]
