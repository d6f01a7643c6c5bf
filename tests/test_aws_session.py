"""chalicelib.aws builds every client from one boto3 session per process: a session per client re-parsed
botocore's endpoint data for each client (~60 ms CPU per extra client on a cold start)."""

from __future__ import annotations

import threading

import boto3.session
import pytest

from chalicelib import aws


@pytest.fixture
def sessions_built(monkeypatch) -> list[boto3.session.Session]:
    """Every boto3 session chalicelib.aws creates, in order."""
    built: list[boto3.session.Session] = []
    real = boto3.session.Session

    def counting(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(boto3.session, "Session", counting)
    return built


def test_clients_of_different_services_come_from_one_session(sessions_built):
    aws.client("s3")
    aws.client("dynamodb")
    aws.client("s3")
    assert len(sessions_built) == 1


def test_threads_building_different_clients_at_once_share_one_session(sessions_built):
    services = ["s3", "rekognition", "dynamodb", "connectparticipant", "secretsmanager", "ssm"]
    start = threading.Barrier(len(services))
    clients: dict[str, object] = {}

    def build(service: str) -> None:
        start.wait()
        clients[service] = aws.client(service)

    threads = [threading.Thread(target=build, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sessions_built) == 1
    assert sorted(clients) == sorted(services)
    assert all(clients[service] is aws.client(service) for service in services)


def test_reset_forgets_the_session_with_its_credentials(sessions_built, monkeypatch):
    first = aws.client("s3")
    aws.reset()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "rotated")
    second = aws.client("s3")
    assert len(sessions_built) == 2
    assert second is not first
    assert second._request_signer._credentials.access_key == "rotated"


def test_every_client_keeps_the_timeouts_and_retries():
    for service in ("s3", "dynamodb"):
        config = aws.client(service).meta.config
        assert (config.connect_timeout, config.read_timeout) == (2, 5)
        assert config.retries["mode"] == "standard"
        assert config.retries["total_max_attempts"] == 3


def test_each_client_keeps_its_own_endpoint_override(monkeypatch):
    """How the sandbox points the app at its emulators: one variable per service, read at client creation."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
    assert aws.client("s3").meta.endpoint_url == "http://127.0.0.1:4566"
    assert aws.client("dynamodb").meta.endpoint_url == "http://127.0.0.1:8000"
    assert aws.client("ssm").meta.endpoint_url == "https://ssm.us-east-1.amazonaws.com"
