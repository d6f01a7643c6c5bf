"""Use case: one MESSAGE_PROCESSOR event -> PROCESSED | APPROVED | REJECTED, never an exception.

    MessageProcessor.process(event) -> dict        (docs/reference/message-processor.md#contract)

- Direction by role: CUSTOMER is redacted with PII_ENTITY_TYPES and the split-number rules; every other role
  (AGENT, SYSTEM, CUSTOM_BOT, SUPERVISOR, ...) with PII_OUTBOUND_ENTITY_TYPES (none: approved unchanged).
  PROCESSOR_REJECT_ENTITY_TYPES are detected in both directions and reject the message instead of masking it.
- Nothing detected: APPROVED with the content unchanged. Something masked: PROCESSED, same content type.
- Content types: see content_types.py. Content that cannot be masked in its own form (no type, invalid JSON,
  PII in a JSON key or number) is REJECTED when it holds PII and APPROVED when it does not.
- Split numbers: a customer message holding a digit (or a spoken number) is judged with its conversation's
  context (context_store.py: one consistent read, one conditional write only when the context changed).
  Other messages cost no DynamoDB call: their masks do not depend on the context (a card prompt with no
  digits, which turns the context on, is written without a read).
- Failure (malformed event, store outage, internal error): PROCESSOR_ON_ERROR, `reject` (default) or
  `approve` (the content unchanged). Oversized content is hostile and always REJECTED.
- One log line per message: ids, role, content type, entity counts, status, reason, round trips, elapsed
  ms. Never text.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.logs import Timer, get_logger, log_event
from chalicelib.processor import response
from chalicelib.processor.content_types import reader
from chalicelib.processor.context_store import ContextStore, StoreUnavailable
from chalicelib.processor.event import ChatMessage, Malformed, read
from chalicelib.redaction.normalize import normalize
from chalicelib.redaction.redactor import Analysis, RedactionContext, Redactor

_log = get_logger("processor")
_DIGIT = re.compile(r"\d")
CARD = "CREDIT_DEBIT_NUMBER"


class Contention(Exception):
    """Other messages of the conversation kept writing its context first."""


@dataclass(frozen=True, slots=True)
class Decision:
    answer: dict[str, Any]
    reason: str
    entities: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None  # set when the message could not be judged (PROCESSOR_ON_ERROR decided)


class MessageProcessor:
    def __init__(
        self,
        inbound: Redactor,
        outbound: Redactor,
        *,
        mask_template: str = "[{type}]",
        language: str = "en",
        reject_entity_types: frozenset[str] = frozenset(),
        store: ContextStore | None = None,
        on_error: str = "reject",
        clock: Callable[[], float] = time.time,
        max_attempts: int = 3,
    ):
        self._inbound = inbound
        self._outbound = outbound
        self._template = mask_template
        self._language = language
        self._reject = reject_entity_types
        self._store = store
        self._approve_on_error = on_error == "approve"
        self._clock = clock
        self._attempts = max_attempts
        # The split-number rules exist only where card numbers are masked.
        self._stateful = store is not None and CARD in inbound.entity_types

    def process(self, event: Any) -> dict[str, Any]:
        timer = Timer()
        trips = self._store.round_trips if self._store is not None else 0
        message = read(event)
        try:
            if isinstance(message, Malformed):
                decision = self._failure(
                    message.reason, message.content, message.content_type, hostile=message.reason == "content_oversized"
                )
            else:
                decision = self._judge(message)
        except Exception as exc:  # the contract: an answer, whatever happened
            from chalicelib.aws import error_code

            content = message.content if isinstance(message, ChatMessage) else None
            content_type = message.content_type if isinstance(message, ChatMessage) else None
            if isinstance(exc, StoreUnavailable):
                decision = self._failure("store_unavailable", content, content_type, error=exc.code)
            elif isinstance(exc, Contention):
                decision = self._failure("store_contention", content, content_type, error="Contention")
            else:
                decision = self._failure("internal_error", content, content_type, error=error_code(exc))
        self._log(message, decision, timer, (self._store.round_trips - trips) if self._store is not None else 0)
        return decision.answer

    # -- judging one message

    def _judge(self, message: ChatMessage) -> Decision:
        redactor = self._inbound if message.from_customer else self._outbound
        if not redactor.entity_types:
            return Decision(response.approved(message.content, message.content_type), "direction_off")
        project = reader(message.content_type)
        if project is None:
            return Decision(response.approved(message.content, message.content_type), "content_type_not_processed")
        projection = project(message.content)
        analysis = self._analyze(message, redactor, projection.text)
        spans = analysis.spans
        if not spans:
            return Decision(response.approved(message.content, message.content_type), "clean")
        counts: dict[str, int] = {}
        for span in spans:
            counts[span.entity_type] = counts.get(span.entity_type, 0) + 1
        if self._reject and not self._reject.isdisjoint(counts):
            return Decision(response.rejected(), "reject_entity_type", counts)
        if not projection.exact:
            return Decision(response.rejected(), "unmaskable_content", counts)
        rendered = projection.render(spans, self._template)
        if rendered is None:
            return Decision(response.rejected(), "pii_outside_string_values", counts)
        return Decision(response.processed(rendered, message.content_type), "masked", counts)

    def _analyze(self, message: ChatMessage, redactor: Redactor, text: str) -> Analysis:
        now = self._clock()
        conversation = message.conversation_key
        if not (self._stateful and message.from_customer and conversation):
            return redactor.analyze(text, None, now)
        if not self._needs_context(text):
            analysis = redactor.analyze(text, None, now)
            if analysis.context.card_context_until > now and self._store is not None:
                self._store.arm(conversation, analysis.context, now)
            return analysis
        return self._with_context(message, conversation, redactor, text, now)

    def _with_context(
        self, message: ChatMessage, conversation: str, redactor: Redactor, text: str, now: float
    ) -> Analysis:
        store = self._store
        assert store is not None
        for _ in range(self._attempts):
            seen = store.load(conversation, message.message_id, now)
            analysis = redactor.analyze(text, seen.context, now)
            if seen.replay or _same(seen.context, analysis.context):
                return analysis
            if store.save(conversation, message.message_id, seen, analysis.context, now):
                return analysis
        raise Contention()

    def _needs_context(self, text: str) -> bool:
        """A digit, or a spoken or look-alike number the redactor will read as digits."""
        if _DIGIT.search(text) is not None:
            return True
        return _DIGIT.search(normalize(text, self._language).text) is not None

    # -- failing closed (or open, if so configured)

    def _failure(
        self,
        reason: str,
        content: str | None,
        content_type: str | None,
        hostile: bool = False,
        error: str | None = None,
    ) -> Decision:
        if self._approve_on_error and not hostile and content is not None:
            return Decision(response.approved(content, content_type), reason, error=error or reason)
        return Decision(response.rejected(), reason, error=error or reason)

    def _log(self, message: ChatMessage | Malformed, decision: Decision, timer: Timer, trips: int) -> None:
        try:
            fields: dict[str, Any] = {
                "message_id": message.message_id,
                "contact_id": message.contact_id,
                "content_type": message.content_type,
                "status": decision.answer["status"],
                "reason": decision.reason,
                "entities": dict(decision.entities),
                "round_trips": trips,
                "elapsed_ms": timer.ms,
            }
            if isinstance(message, ChatMessage):
                fields["initial_contact_id"] = message.initial_contact_id
                fields["role"] = message.role
            if decision.error is not None:
                fields["error"] = decision.error
            log_event(_log, "message_processed", logging.WARNING if decision.error else logging.INFO, **fields)
        except Exception:  # a log line is never worth a failed answer
            pass


def unconfigured(exc: BaseException) -> dict[str, Any]:
    """The answer when settings or setup fail: nothing is known about the policy, so fail closed."""
    from chalicelib.settings import SettingsError

    try:
        variable = exc.variable if isinstance(exc, SettingsError) else None
        from chalicelib.aws import error_code

        log_event(_log, "processor_misconfigured", logging.ERROR, variable=variable, error=error_code(exc))
    except Exception:
        pass
    return response.rejected()


def _same(before: RedactionContext, after: RedactionContext) -> bool:
    return (
        int(before.card_context_until) == int(after.card_context_until)
        and before.card_messages_left == after.card_messages_left
        and before.card_context_soft == after.card_context_soft
    )
