"""The redactor every path uses: detect (locally, with Comprehend, or both), merge, mask, keep context.

Interface (kept stable for the messaging paths):
- `build_redactor(settings.redaction, direction="inbound" | "outbound", comprehend=None) -> Redactor`
- `Redactor.redact(text, context=None, now=None, *, language=None) -> Redaction`: `language` (en, es, fr, pt,
  de, it) picks the context and number words for one call (a contact's language); None uses `PII_LANGUAGE`
- `RedactionContext` is what a conversation keeps between messages (flags, counts, timestamps; never PII);
  `to_item()` / `from_item()` convert it for the session store.
- `RedactionUnavailable` is raised when the configured engine cannot run (Comprehend down with
  PII_ENGINE=comprehend): the caller must treat it as transient and never send the unredacted text.

Engines (`PII_ENGINE`): `local` (default; no network), `comprehend`, `both` (union). With `both`, a
Comprehend failure still yields the locally redacted text, flagged `degraded`. Whatever the engine, the
conversation rules for split card numbers (conversation.py) apply to customer messages, and so does the
local card detector they build on (in `comprehend` mode too: it only ever masks more).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.logs import log_event
from chalicelib.redaction import masking
from chalicelib.redaction.comprehend import ComprehendError, ComprehendPii
from chalicelib.redaction.conversation import CardContextPolicy, RedactionContext
from chalicelib.redaction.detectors import PRIORITY, SUPPORTED_TYPES, Detection, DetectorSet, scan
from chalicelib.redaction.languages import check_language
from chalicelib.redaction.normalize import Normalized, normalize
from chalicelib.redaction.widening import widen_all

if TYPE_CHECKING:
    from chalicelib.settings import RedactionSettings

__all__ = ["Redaction", "RedactionContext", "RedactionUnavailable", "Redactor", "build_redactor"]

log = logging.getLogger("connect_guard.redaction")

CARD = "CREDIT_DEBIT_NUMBER"


class RedactionUnavailable(RuntimeError):
    """The configured engine could not run; never fall back to sending unredacted text."""

    def __init__(self, reason: str, transient: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


@dataclass(frozen=True, init=False)
class Redaction:
    text: str
    entity_counts: Mapping[str, int]
    context: RedactionContext
    degraded: bool

    def __init__(
        self,
        text: str,
        entity_counts: Mapping[str, int] | None = None,
        context: RedactionContext | None = None,
        degraded: bool = False,
    ):
        # One per message: filling the instance dict directly costs half what the generated frozen __init__
        # does (an object.__setattr__ call per field). Still frozen: assigning an attribute later raises.
        fields = self.__dict__
        fields["text"] = text
        fields["entity_counts"] = {} if entity_counts is None else entity_counts
        fields["context"] = RedactionContext() if context is None else context
        fields["degraded"] = degraded

    @property
    def changed(self) -> bool:
        return bool(self.entity_counts)


class Redactor:
    """Redacts one direction of a conversation with one engine."""

    def __init__(
        self,
        entity_types: frozenset[str],
        mask_template: str = "[{type}]",
        *,
        engine: str = "local",
        language: str = "en",
        comprehend: ComprehendPii | None = None,
        card_context: CardContextPolicy | None = CardContextPolicy(),
    ):
        if engine not in ("local", "comprehend", "both"):
            raise ValueError("engine must be local, comprehend or both")
        if engine != "local" and comprehend is None:
            raise ValueError("a Comprehend adapter is required for this engine")
        self.entity_types = frozenset(entity_types)
        self.engine = engine
        self._template = mask_template
        # Our own masks, lower-cased, as they appear in text redacted before: "[credit_debit_number]".
        self._masks = re.compile(re.escape(mask_template.lower()).replace(re.escape("{type}"), "[a-z_]+"))
        self._mask_hint = mask_template.split("{type}")[0][:1]
        self.language = check_language(language)
        self._comprehend = comprehend if engine != "local" else None
        # In `comprehend` mode the local card detector still runs: the split-card rules need it.
        self._local_types = self.entity_types if engine != "comprehend" else self.entity_types & {CARD}
        self._local = DetectorSet.for_types(self._local_types, self.language)
        self._by_language = {self.language: self._local}
        self._card_context = card_context if CARD in self.entity_types else None

    def _detectors(self, language: str | None) -> DetectorSet:
        """The detectors reading `language`'s words (None: this redactor's language). Built once per language."""
        if language is None or language == self.language:
            return self._local
        detectors = self._by_language.get(language)
        if detectors is None:
            detectors = DetectorSet.for_types(self._local_types, check_language(language))
            self._by_language[language] = detectors
        return detectors

    def redact(
        self,
        text: str,
        context: RedactionContext | None = None,
        now: float | None = None,
        *,
        language: str | None = None,
    ) -> Redaction:
        """`text` with every detected entity masked, and the conversation's context after it.

        `language` (en, es, fr, pt, de, it) selects the context and number words for this call, e.g. a contact's
        own language; None uses the redactor's (`PII_LANGUAGE`).
        """
        spans, context, degraded = self._analyze(text, context, now, language)
        if not spans:  # most messages: nothing to count or mask
            return Redaction(text or "", {}, context, degraded)
        counts: dict[str, int] = {}
        for span in spans:
            counts[span.entity_type] = counts.get(span.entity_type, 0) + 1
        return Redaction(masking.mask(text, spans, self._template), counts, context, degraded)

    def analyze(
        self,
        text: str,
        context: RedactionContext | None = None,
        now: float | None = None,
        *,
        language: str | None = None,
    ) -> Analysis:
        """The merged spans to mask (offsets into `text`), without masking: for evaluation and tests."""
        return Analysis(*self._analyze(text, context, now, language))

    def _analyze(
        self, text: str, context: RedactionContext | None, now: float | None, language: str | None = None
    ) -> tuple[list[Detection], RedactionContext, bool]:
        context = context or _NO_CONTEXT
        if not text or not self.entity_types:
            return [], context, False
        now = time.time() if now is None else now
        language = language or self.language
        detectors = self._by_language.get(language) or self._detectors(language)  # (checks a new language first)
        normalized = normalize(text, language)
        message = scan(normalized.text, self._masks, self._mask_hint, normalized.lowered, normalized.digits)
        # Widened here, over the normalised text: "four four 355074 ..." is one number there, and the masked text
        # must show what detection (and the card rules below) reasoned about.
        local = detectors.detect_scan(message, widened=True)
        if self._card_context is not None:
            extra, context = self._card_context.apply(message, local, context, now, language)
            if extra:
                local.extend(widen_all(extra, message.text))
        if not local or normalized.starts is None:  # the text was already plain: offsets are the same
            spans = local
        else:
            spans = [_to_original(d, normalized) for d in local]
        degraded = False
        if self._comprehend is not None:
            try:
                spans.extend(self._comprehend.detect(text))
            except ComprehendError as exc:
                if self.engine == "comprehend":
                    raise RedactionUnavailable(exc.code, exc.transient) from None
                degraded = True
                log_event(log, "redaction_degraded", engine=self.engine, error=exc.code)
        # Local spans were widened over the normalised text; when that is the text itself, not again.
        widened = normalized.starts is None and self._comprehend is None
        merged = masking.merge(spans, text, PRIORITY, widened) if spans else spans
        if merged:
            context = context.counted()
        return merged, context, degraded


_NO_CONTEXT = RedactionContext()  # frozen: one shared instance for conversations without context


class Analysis(NamedTuple):
    spans: list[Detection]  # merged, sorted, offsets into the original text
    context: RedactionContext
    degraded: bool


def _to_original(detection: Detection, normalized: Normalized) -> Detection:
    start, end = normalized.span(detection.start, detection.end)
    return Detection(detection.entity_type, start, end, detection.score)


def build_redactor(
    settings: RedactionSettings, direction: str = "inbound", comprehend: ComprehendPii | None = None
) -> Redactor:
    """The redactor for customer -> agent (`inbound`) or agent -> customer (`outbound`) text.

    `comprehend` lets tests hand in an adapter over a stubbed client; otherwise one is made whose boto3
    client is built on first use, and only when the engine needs Comprehend.
    """
    if direction not in ("inbound", "outbound"):
        raise ValueError("direction must be inbound or outbound")
    types = frozenset(settings.entity_types if direction == "inbound" else settings.outbound_entity_types)
    engine = settings.engine
    if engine != "local" and comprehend is None:
        comprehend = ComprehendPii(_comprehend_client, settings.language, settings.min_score, types)
    if engine == "local":
        unsupported = sorted(types - SUPPORTED_TYPES)
        if unsupported:
            log_event(log, "pii_types_not_detected_locally", direction=direction, types=unsupported)
    card_context = None
    if direction == "inbound":  # split numbers come from customers; agents do not type card numbers in pieces
        card_context = CardContextPolicy(settings.card_context_seconds, settings.card_context_messages)
    return Redactor(
        types,
        settings.mask_template,
        engine=engine,
        language=settings.language,
        comprehend=comprehend,
        card_context=card_context,
    )


def _comprehend_client() -> Any:
    from chalicelib import aws

    return aws.client("comprehend")
