"""Message processing as Amazon Connect does it (docs/reference/message-processor.md), for chats that turned it on.

Before a message of such a chat reaches anyone, the emulator invokes the chat's processor Lambda (through the
Lambda host, as Connect would through Lambda) with Connect's event, and applies the answer:

    PROCESSED  the processed content replaces the message
    APPROVED   the message as sent
    REJECTED   not delivered
    anything else (a function error, a timeout, an answer of the wrong shape): the chat's failure mode,
    DELIVER_UNPROCESSED_MESSAGE (the original is delivered) or DO_NOT_DELIVER_UNPROCESSED_MESSAGE (it is not)

`break_processor` makes every invocation fail, to show the failure mode at work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

DELIVER = "DELIVER_UNPROCESSED_MESSAGE"
DO_NOT_DELIVER = "DO_NOT_DELIVER_UNPROCESSED_MESSAGE"
STATUSES = ("PROCESSED", "APPROVED", "REJECTED")
ANSWER_TYPES = (
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
)


class Invoker(Protocol):
    def invoke(self, function: str, event: dict, timeout: float = 60.0) -> Any: ...


@dataclass(frozen=True)
class ProcessorSettings:
    """What StartContactMediaProcessing (or the flow block) set on a chat."""

    function: str  # the Lambda host's function name (the ARN's last part)
    failure_mode: str = DO_NOT_DELIVER


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    content: str
    content_type: str
    status: str  # PROCESSED | APPROVED | REJECTED | FAILED
    note: str = ""  # why it failed, or what the failure mode did

    def as_dict(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "status": self.status, "note": self.note}


class MessageProcessing:
    def __init__(
        self,
        invoker: Invoker,
        instance_id: str,
        region: str = "us-east-1",
        account: str = "123456789012",
        timeout_seconds: float = 5.0,
    ):
        self._invoker = invoker
        self._instance_id = instance_id
        self._instance_arn = f"arn:aws:connect:{region}:{account}:instance/{instance_id}"
        self._timeout = timeout_seconds
        self.break_processor = False
        self.invocations = 0

    def event(
        self, contact_id: str, initial_contact_id: str, participant: Any, content_type: str, content: str, at: str
    ) -> dict[str, Any]:
        """The input Connect sends: lowerCamelCase keys, one message."""
        return {
            "version": "1.0",
            "instanceId": self._instance_id,
            "associatedResourceArn": f"{self._instance_arn}/contact/{contact_id}",
            "chatContent": {
                "absoluteTime": at,
                "content": content,
                "contentType": content_type,
                "id": str(uuid.uuid4()),
                "participantId": participant.participant_id,
                "displayName": participant.display_name,
                "participantRole": participant.role,
                "initialContactId": initial_contact_id,
                "contactId": contact_id,
            },
        }

    def process(self, settings: ProcessorSettings, event: dict[str, Any]) -> Outcome:
        chat = event["chatContent"]
        original, content_type = chat["content"], chat["contentType"]
        self.invocations += 1
        if self.break_processor:
            return self._failed(settings, original, content_type, "processor made to fail (sandbox switch)")
        invocation = self._invoker.invoke(settings.function, event, timeout=self._timeout)
        if not invocation.ok:
            return self._failed(settings, original, content_type, f"function error {invocation.error}")
        answer = invocation.result
        status = answer.get("status") if isinstance(answer, dict) else None
        if status not in STATUSES:
            return self._failed(settings, original, content_type, "invalid answer")
        if status == "REJECTED":
            return Outcome(False, original, content_type, "REJECTED")
        if status == "APPROVED":
            return Outcome(True, original, content_type, "APPROVED")
        processed = (answer.get("result") or {}).get("processedChatContent") or {}
        content, kind = processed.get("content"), processed.get("contentType")
        if not isinstance(content, str) or not content or kind not in ANSWER_TYPES:
            return self._failed(settings, original, content_type, "invalid processed content")
        return Outcome(True, content, kind, "PROCESSED")

    @staticmethod
    def _failed(settings: ProcessorSettings, original: str, content_type: str, why: str) -> Outcome:
        if settings.failure_mode == DELIVER:
            return Outcome(True, original, content_type, "FAILED", why + ": delivered unprocessed")
        return Outcome(False, original, content_type, "FAILED", why + ": not delivered")
