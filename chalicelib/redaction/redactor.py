"""The redactor interface every path uses, with a minimal correct engine.

Interface (kept stable for the messaging paths):
- `build_redactor(settings.redaction, direction="inbound" | "outbound") -> Redactor`
- `Redactor.redact(text, context=None, now=None) -> Redaction`
- `RedactionContext` is what a conversation keeps between messages (flags, counts, timestamps; never PII);
  `to_item()` / `from_item()` convert it for the session store.
- `RedactionUnavailable` is raised when the configured engine cannot run (e.g. Comprehend down with
  PII_ENGINE=comprehend): the caller must treat it as transient and never send the unredacted text.

The engine here (Luhn-validated card numbers and SSNs) is the floor; the redaction issue replaces it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping


class RedactionUnavailable(RuntimeError):
    """The configured engine could not run; never fall back to sending unredacted text."""


@dataclass(frozen=True)
class RedactionContext:
    """Per-conversation redaction state. Holds no PII: only flags, counts and timestamps."""

    card_context_until: float = 0.0

    def to_item(self) -> dict[str, Any]:
        return {"card_context_until": int(self.card_context_until)}

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> "RedactionContext":
        if not item:
            return cls()
        return cls(card_context_until=float(item.get("card_context_until", 0) or 0))


@dataclass(frozen=True)
class Redaction:
    text: str
    entity_counts: Mapping[str, int] = field(default_factory=dict)
    context: RedactionContext = field(default_factory=RedactionContext)
    degraded: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.entity_counts)


_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}([- ]?)(?!00)\d{2}\1(?!0000)\d{4}(?!\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class Redactor:
    def __init__(self, entity_types: frozenset[str], mask_template: str = "[{type}]"):
        self._types = entity_types
        self._template = mask_template

    def redact(self, text: str, context: RedactionContext | None = None, now: float | None = None) -> Redaction:
        counts: dict[str, int] = {}

        def mask(kind: str):
            def substitute(match: re.Match) -> str:
                if kind == "CREDIT_DEBIT_NUMBER" and not _luhn_ok(re.sub(r"\D", "", match.group(0))):
                    return match.group(0)
                counts[kind] = counts.get(kind, 0) + 1
                return self._template.replace("{type}", kind)

            return substitute

        if "CREDIT_DEBIT_NUMBER" in self._types:
            text = _CARD.sub(mask("CREDIT_DEBIT_NUMBER"), text)
        if "SSN" in self._types:
            text = _SSN.sub(mask("SSN"), text)
        return Redaction(text=text, entity_counts=counts, context=replace(context or RedactionContext()))


def build_redactor(settings, direction: str = "inbound") -> Redactor:
    """The redactor for customer -> agent (`inbound`) or agent -> customer (`outbound`) text."""
    types = settings.entity_types if direction == "inbound" else settings.outbound_entity_types
    return Redactor(frozenset(types), settings.mask_template)
