"""Composition: the messaging adapters, then the use cases over them, built from settings once per container.

app.py asks for `messenger_webhook(settings)` (api_handler) or `outbound_relay(settings)`
(connect_stream_handler); everything behind them is built on first use and cached by the (hashable,
frozen) settings sections, so a warm Lambda reuses the secret cache, the HTTP pool and the clients.
boto3 clients are resolved through `aws.client` on every call (a dict lookup), which keeps them lazy (GET
verification never builds a Connect client) and honours `aws.reset()` in tests. Nothing heavy is imported
here: each builder imports its module when it first runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib import aws
from chalicelib.settings import MessagingSettings, RedactionSettings, Settings

if TYPE_CHECKING:
    from chalicelib.messaging.attachment_relay import AttachmentRelay
    from chalicelib.messaging.connect.attachments import ConnectAttachments
    from chalicelib.messaging.connect.chat import ConnectChat
    from chalicelib.messaging.endpoint import MessengerWebhook
    from chalicelib.messaging.inbound import InboundMessages
    from chalicelib.messaging.meta.secrets import CredentialsSource, MessengerSecrets
    from chalicelib.messaging.meta.send_api import MessengerClient
    from chalicelib.messaging.outbound import OutboundRelay
    from chalicelib.messaging.store.choices import ChoiceStore
    from chalicelib.messaging.store.dedupe import DedupeLog
    from chalicelib.messaging.store.sessions import SessionStore


class LazyClient:
    """Stands in for `aws.client(service)` and resolves it at each attribute access."""

    __slots__ = ("_service",)

    def __init__(self, service: str):
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(aws.client(self._service), name)


# ------------------------------------------------------------------------------------------------ entry points


def messenger_webhook(settings: Settings) -> MessengerWebhook:
    return _webhook(settings.messaging, settings.redaction)


def outbound_relay(settings: Settings) -> OutboundRelay:
    return _outbound_relay(settings.messaging, settings.redaction)


# ------------------------------------------------------------------------------------------------ adapters


@lru_cache(maxsize=1)
def http_session() -> Any:
    """One pooled `requests.Session` (retrying 5xx/429/connection errors) for Graph and presigned URLs (the
    CDN downloads use pinned sessions of their own, meta/cdn.py)."""
    from chalicelib.messaging.http import build_session

    return build_session()


@lru_cache(maxsize=4)
def messenger_secrets(messaging: MessagingSettings) -> MessengerSecrets:
    from chalicelib.messaging.meta.secrets import MessengerSecrets

    return MessengerSecrets(messaging.messenger_secret_id, messaging.secret_cache_seconds)


def page_credentials(secrets: CredentialsSource) -> Callable[..., tuple[str, str]]:
    """(token of the Page / Instagram account, app secret) from the cached Messenger secret;
    `refresh=True` rereads it (rotation). An account the secret has no token for gets an empty token,
    which Graph refuses for good (`invalid_token`), never another Page's token."""

    def credentials(refresh: bool = False, account: str | None = None) -> tuple[str, str]:
        value = (secrets.refresh() if refresh else None) or secrets.current()
        return value.accounts.token_for(account) or "", value.app_secret

    return credentials


@lru_cache(maxsize=4)
def messenger_client(messaging: MessagingSettings) -> MessengerClient:
    from chalicelib.messaging.meta.send_api import MessengerClient

    return MessengerClient(
        messaging.graph_api_url, page_credentials(messenger_secrets(messaging)), session=http_session()
    )


@lru_cache(maxsize=4)
def choice_store(messaging: MessagingSettings) -> ChoiceStore:
    from chalicelib.messaging.store.choices import ChoiceStore

    return ChoiceStore(LazyClient("dynamodb"), messaging.sessions_table)


@lru_cache(maxsize=4)
def connect_chat(messaging: MessagingSettings) -> ConnectChat:
    from chalicelib.messaging.connect.chat import ConnectChat

    return ConnectChat(
        connect=LazyClient("connect"),
        participant=LazyClient("connectparticipant"),
        instance_id=messaging.connect_instance_id,
        contact_flow_id=messaging.connect_contact_flow_id,
        streaming_topic_arn=messaging.connect_streaming_topic_arn,
        chat_duration_minutes=messaging.chat_duration_minutes,
    )


@lru_cache(maxsize=4)
def connect_attachments(messaging: MessagingSettings) -> ConnectAttachments:
    from chalicelib.messaging.connect.attachments import ConnectAttachments

    return ConnectAttachments(LazyClient("connectparticipant"), http_session())


@lru_cache(maxsize=4)
def session_store(messaging: MessagingSettings) -> SessionStore:
    from chalicelib.messaging.store.sessions import SessionStore

    return SessionStore(LazyClient("dynamodb"), messaging.sessions_table)


@lru_cache(maxsize=4)
def dedupe_log(messaging: MessagingSettings) -> DedupeLog:
    from chalicelib.messaging.store.dedupe import DedupeLog

    return DedupeLog(LazyClient("dynamodb"), messaging.sessions_table)


# ------------------------------------------------------------------------------------------------ use cases


@lru_cache(maxsize=4)
def attachment_relay(messaging: MessagingSettings) -> AttachmentRelay:
    """How customer attachments reach the agent: relayed as real Connect chat attachments (scanned by
    Connect's FILE_SCANNER), with a note to the agent for what cannot be relayed."""
    from chalicelib.messaging.attachment_relay import AttachmentRelay
    from chalicelib.messaging.meta.cdn import AttachmentDownloader
    from chalicelib.messaging.meta.download_policy import DownloadPolicy, HostList

    policy = DownloadPolicy(HostList.parse(messaging.attachment_download_hosts))
    return AttachmentRelay(
        downloader=AttachmentDownloader(policy, messaging.attachment_max_bytes),
        attachments=connect_attachments(messaging),
        agent=connect_chat(messaging),
        customer=messenger_client(messaging),
        allowed_extensions=messaging.attachment_allowed_extensions,
        max_bytes=messaging.attachment_max_bytes,
        notices=dedupe_log(messaging),
    )


@lru_cache(maxsize=4)
def inbound_messages(messaging: MessagingSettings, redaction: RedactionSettings) -> InboundMessages:
    from chalicelib.messaging.inbound import InboundMessages
    from chalicelib.redaction.redactor import build_redactor

    return InboundMessages(
        sessions=session_store(messaging),
        dedupe=dedupe_log(messaging),
        chat=connect_chat(messaging),
        redactor=build_redactor(redaction, direction="inbound"),
        attachments=attachment_relay(messaging),
        chat_duration_minutes=messaging.chat_duration_minutes,
        location_precision=messaging.location_precision,
        choices=choice_store(messaging),
    )


@lru_cache(maxsize=4)
def _webhook(messaging: MessagingSettings, redaction: RedactionSettings) -> MessengerWebhook:
    from chalicelib.messaging.endpoint import MessengerWebhook

    return MessengerWebhook(
        secrets=messenger_secrets(messaging),
        inbound=lambda: inbound_messages(messaging, redaction),
        max_body_bytes=messaging.webhook_max_body_bytes,
        deadline_seconds=messaging.webhook_deadline_seconds,
    )


@lru_cache(maxsize=4)
def _outbound_relay(messaging: MessagingSettings, redaction: RedactionSettings) -> OutboundRelay:
    from chalicelib.messaging.outbound import OutboundPolicy, OutboundRelay
    from chalicelib.redaction.redactor import build_redactor

    return OutboundRelay(
        sessions=session_store(messaging),
        dedupe=dedupe_log(messaging),
        messenger=messenger_client(messaging),
        attachments=connect_attachments(messaging),
        connection=connect_chat(messaging),
        redactor=build_redactor(redaction, direction="outbound"),
        policy=OutboundPolicy(
            human_agent_tag=messaging.human_agent_tag,
            attachment_url_seconds=messaging.attachment_url_expiry_seconds,
        ),
        choices=choice_store(messaging),
    )


def reset() -> None:
    """Forget every cached object (tests: a new moto context, a rotated secret)."""
    # Listed here, not at module level: the IAM check (tests/iam_scan.py) would count a module-level
    # mention as every Lambda reaching every builder.
    for cached in (
        http_session,
        messenger_secrets,
        messenger_client,
        connect_chat,
        connect_attachments,
        session_store,
        dedupe_log,
        choice_store,
        attachment_relay,
        inbound_messages,
        _webhook,
        _outbound_relay,
    ):
        cached.cache_clear()
