"""Composition for the Connect -> Messenger direction and the attachment relay, built once per container.

Shares the inbound composition's adapters (secrets cache, session store, dedupe log, Connect gateway)
and adds the Graph Send API client, the HTTP session, and Connect's attachment calls. Everything is
built on first use and cached by the frozen settings sections.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.messaging import wiring
from chalicelib.settings import MessagingSettings, RedactionSettings, Settings


def outbound_relay(settings: Settings):
    return _outbound_relay(settings.messaging, settings.redaction)


@lru_cache(maxsize=1)
def http_session():
    """One pooled `requests.Session` (retrying 5xx/429/connection errors) for Graph, CDN and presigned URLs."""
    from chalicelib.messaging.messenger import build_session

    return build_session()


def page_credentials(secrets: Any):
    """(page token, app secret) from the cached Messenger secret; `refresh=True` rereads it (rotation)."""

    def credentials(refresh: bool = False) -> tuple[str, str]:
        value = (secrets.refresh() if refresh else None) or secrets.current()
        return value.page_token, value.app_secret

    return credentials


@lru_cache(maxsize=4)
def messenger_client(messaging: MessagingSettings):
    from chalicelib.messaging.messenger import MessengerClient

    return MessengerClient(messaging.graph_api_url, page_credentials(wiring.messenger_secrets(messaging)),
                           session=http_session())


@lru_cache(maxsize=4)
def connect_attachments(messaging: MessagingSettings):
    from chalicelib.messaging.connect_attachments import ConnectAttachments

    return ConnectAttachments(wiring.LazyClient("connectparticipant"), http_session())


@lru_cache(maxsize=4)
def attachment_relay(messaging: MessagingSettings):
    from chalicelib.messaging.attachment_download import AttachmentDownloader
    from chalicelib.messaging.attachment_relay import AttachmentRelay

    return AttachmentRelay(
        downloader=AttachmentDownloader(http_session(), messaging.attachment_max_bytes),
        attachments=connect_attachments(messaging),
        agent=wiring.connect_chat(messaging),
        customer=messenger_client(messaging),
        allowed_extensions=messaging.attachment_allowed_extensions,
        max_bytes=messaging.attachment_max_bytes,
        notices=wiring.dedupe_log(messaging),
    )


@lru_cache(maxsize=4)
def _outbound_relay(messaging: MessagingSettings, redaction: RedactionSettings):
    from chalicelib.messaging.outbound import OutboundPolicy, OutboundRelay
    from chalicelib.redaction.redactor import build_redactor

    return OutboundRelay(
        sessions=wiring.session_store(messaging),
        dedupe=wiring.dedupe_log(messaging),
        messenger=messenger_client(messaging),
        attachments=connect_attachments(messaging),
        connection=wiring.connect_chat(messaging),
        redactor=build_redactor(redaction, direction="outbound"),
        policy=OutboundPolicy(
            human_agent_tag=messaging.human_agent_tag,
            attachment_url_seconds=messaging.attachment_url_expiry_seconds,
        ),
    )


def reset() -> None:
    """Forget every cached object (tests: a new moto context, a rotated secret)."""
    for cached in (http_session, messenger_client, connect_attachments, attachment_relay, _outbound_relay):
        cached.cache_clear()
