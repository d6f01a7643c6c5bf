"""Composition: the message processor built from settings once per container.

Cached by the frozen settings sections, so a warm Lambda reuses its redactors. The DynamoDB client is
resolved through `aws.client` at each call (a dict lookup): lazy, and `aws.reset()` in tests is honoured.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib import aws
from chalicelib.processor.processor import MessageProcessor
from chalicelib.settings import ProcessorSettings, RedactionSettings

if TYPE_CHECKING:
    from chalicelib.processor.context_store import ContextStore


class _LazyDynamo:
    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(aws.client("dynamodb"), name)


@lru_cache(maxsize=4)
def message_processor(processor: ProcessorSettings, redaction: RedactionSettings) -> MessageProcessor:
    from chalicelib.processor.context_store import ContextStore

    return build_message_processor(processor, redaction, ContextStore(_LazyDynamo(), processor.sessions_table))


def build_message_processor(
    processor: ProcessorSettings, redaction: RedactionSettings, store: ContextStore
) -> MessageProcessor:
    """The processor as the Lambda runs it, over `store` (the benchmark counts the store's round trips)."""
    from chalicelib.redaction.redactor import build_redactor

    reject = processor.reject_entity_types
    # Types rejected outright are detected in both directions, even where they would not be masked.
    inbound = build_redactor(replace(redaction, entity_types=redaction.entity_types | reject), "inbound")
    outbound = build_redactor(
        replace(redaction, outbound_entity_types=redaction.outbound_entity_types | reject), "outbound"
    )
    return MessageProcessor(
        inbound,
        outbound,
        mask_template=redaction.mask_template,
        language=redaction.language,
        reject_entity_types=reject,
        store=store,
        on_error=processor.on_error,
    )


def reset() -> None:
    """Forget the cached processor (tests: a new moto context)."""
    message_processor.cache_clear()
