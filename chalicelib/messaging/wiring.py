"""Composition: the messaging use cases and their adapters, built from settings once per container.

app.py asks for `messenger_webhook(settings)`; everything behind it is built on first use and cached by
the (hashable, frozen) settings sections, so a warm Lambda reuses the secret cache and the clients.
boto3 clients are resolved through `aws.client` on every call (a dict lookup), which keeps them lazy
(GET verification never builds a Connect client) and honours `aws.reset()` in tests.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import aws
from chalicelib.settings import MessagingSettings, RedactionSettings, Settings


class LazyClient:
    """Stands in for `aws.client(service)` and resolves it at each attribute access."""

    __slots__ = ("_service",)

    def __init__(self, service: str):
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(aws.client(self._service), name)


def messenger_webhook(settings: Settings):
    return _webhook(settings.messaging, settings.redaction)


@lru_cache(maxsize=4)
def messenger_secrets(messaging: MessagingSettings):
    from chalicelib.messaging.secrets import MessengerSecrets

    return MessengerSecrets(messaging.messenger_secret_id, messaging.secret_cache_seconds)


@lru_cache(maxsize=4)
def connect_chat(messaging: MessagingSettings):
    from chalicelib.messaging.connect_chat import ConnectChat

    return ConnectChat(
        connect=LazyClient("connect"),
        participant=LazyClient("connectparticipant"),
        instance_id=messaging.connect_instance_id,
        contact_flow_id=messaging.connect_contact_flow_id,
        streaming_topic_arn=messaging.connect_streaming_topic_arn,
        chat_duration_minutes=messaging.chat_duration_minutes,
    )


@lru_cache(maxsize=4)
def session_store(messaging: MessagingSettings):
    from chalicelib.messaging.sessions import SessionStore

    return SessionStore(LazyClient("dynamodb"), messaging.sessions_table)


@lru_cache(maxsize=4)
def dedupe_log(messaging: MessagingSettings):
    from chalicelib.messaging.sessions import DedupeLog

    return DedupeLog(LazyClient("dynamodb"), messaging.sessions_table)


@lru_cache(maxsize=4)
def inbound_messages(messaging: MessagingSettings, redaction: RedactionSettings):
    from chalicelib.messaging.inbound import InboundMessages
    from chalicelib.redaction.redactor import build_redactor

    return InboundMessages(
        sessions=session_store(messaging),
        dedupe=dedupe_log(messaging),
        chat=connect_chat(messaging),
        redactor=build_redactor(redaction, direction="inbound"),
        attachments=attachment_forwarder(messaging),
        chat_duration_minutes=messaging.chat_duration_minutes,
    )


def attachment_forwarder(messaging: MessagingSettings):
    """How customer attachments reach the agent: relayed as real Connect chat attachments (scanned by
    Connect's FILE_SCANNER), with a note to the agent for what cannot be relayed."""
    from chalicelib.messaging import outbound_wiring

    return outbound_wiring.attachment_relay(messaging)


@lru_cache(maxsize=4)
def _webhook(messaging: MessagingSettings, redaction: RedactionSettings):
    from chalicelib.messaging.webhook_endpoint import MessengerWebhook

    return MessengerWebhook(
        secrets=messenger_secrets(messaging),
        inbound=lambda: inbound_messages(messaging, redaction),
        max_body_bytes=messaging.webhook_max_body_bytes,
    )


_CACHES = (messenger_secrets, connect_chat, session_store, dedupe_log, inbound_messages, _webhook)


def reset() -> None:
    """Forget every cached object (tests: a new moto context, a rotated secret)."""
    for cached in _CACHES:
        cached.cache_clear()
    from chalicelib.messaging import outbound_wiring

    outbound_wiring.reset()  # the outbound composition holds on to these adapters
