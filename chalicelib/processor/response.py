"""The three answers Connect understands (docs/reference/message-processor.md#contract).

    {"status": "PROCESSED" | "APPROVED" | "REJECTED",
     "result": {"processedChatContent": {"content": str, "contentType": str}}}

Never `FAILED` (an older revision of Connect's page listed it; the current one does not). Every answer
carries a `result`: for APPROVED the original content (public samples do; whether Connect reads it is not
documented), for REJECTED a notice with no PII, so no reading of the answer can deliver what we refused.
"""

from __future__ import annotations

from typing import Any

PROCESSED, APPROVED, REJECTED = "PROCESSED", "APPROVED", "REJECTED"
PLAIN = "text/plain"
REJECTED_NOTICE = "[message not delivered]"


def answer(status: str, content: str, content_type: str | None) -> dict[str, Any]:
    return {
        "status": status,
        "result": {"processedChatContent": {"content": content, "contentType": content_type or PLAIN}},
    }


def approved(content: str, content_type: str | None) -> dict[str, Any]:
    return answer(APPROVED, content, content_type)


def processed(content: str, content_type: str | None) -> dict[str, Any]:
    return answer(PROCESSED, content, content_type)


def rejected() -> dict[str, Any]:
    return answer(REJECTED, REJECTED_NOTICE, PLAIN)
