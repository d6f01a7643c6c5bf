"""Invariants of the outbound use case over generated stream items (in-memory adapters, no I/O):
the customer never receives their own words, a whisper, or anything from a role we do not forward,
and no item, however odd, makes the handler raise."""

import json
import time
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.messaging.meta.send_api import Delivery, SendResult
from chalicelib.messaging.outbound import OutboundRelay
from chalicelib.messaging.rendering import QuickReply
from chalicelib.messaging.store.dedupe import Claim
from chalicelib.messaging.store.sessions import ChatSession
from chalicelib.redaction.redactor import Redactor
from tests.messaging.fakes import MemoryChat, MemorySessions
from tests.messaging.stream_fixtures import sns_event, stream_item

ROLES = ["AGENT", "CUSTOMER", "SYSTEM", "CUSTOM_BOT", "SUPERVISOR", "", "agent"]
VISIBILITY = ["ALL", "CUSTOMER", "AGENT", "", "all"]
CONTENT_TYPES = [
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive",
    "application/vnd.amazonaws.connect.message.interactive.response",
    "application/vnd.amazonaws.connect.event.typing",
    "application/vnd.amazonaws.connect.event.participant.joined",
    "application/vnd.amazonaws.connect.event.participant.left",
    "application/vnd.amazonaws.connect.event.chat.ended",
    "application/vnd.amazonaws.connect.event.message.read",
    "image/png",
    "",
]


class Recorder:
    """The Send API (a CustomerMessenger): records what the customer would receive."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def send_text(
        self, psid: str, text: str, delivery: Delivery, quick_replies: Iterable[QuickReply] = ()
    ) -> SendResult:
        self.calls.append(("text", text))
        return SendResult(delivered=True)

    def send_attachment_url(self, psid: str, kind: str, url: str, delivery: Delivery) -> SendResult:
        self.calls.append(("attachment", url))
        return SendResult(delivered=True)

    def send_template(self, psid: str, attachment: dict, delivery: Delivery) -> SendResult:
        self.calls.append(("template", attachment))
        return SendResult(delivered=True)

    def send_typing(self, psid: str) -> SendResult:
        self.calls.append(("typing", None))
        return SendResult(delivered=True)


class Sessions(MemorySessions):
    """One active chat, contact-1; counts the ends."""

    def __init__(self) -> None:
        super().__init__()
        now = time.time()
        session = ChatSession("messenger", "psid", "contact-1", "p", "c", now + 3600, now, int(now + 3600))
        assert self.claim_start("messenger", "psid", "start", now, 30, None)
        assert self.activate(session, "start", 1, now)
        self.ended = 0

    def end_contact(self, initial_contact_id: str, now: float | None = None) -> None:
        self.ended += 1
        super().end_contact(initial_contact_id, now)


class Dedupe:
    def claim(self, scope, key, now, lease_seconds=30.0, holder=""):
        return Claim.CLAIMED

    def complete(self, scope, key, now, outcome="done"):
        pass

    def release(self, scope, key, holder=""):
        pass


class Attachments:
    def signed_url(self, token, attachment_id, seconds):
        from chalicelib.messaging.connect.attachments import SignedAttachment

        return SignedAttachment("https://files.test/x", 10)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ROLES),
    st.sampled_from(VISIBILITY),
    st.sampled_from(CONTENT_TYPES),
    st.one_of(
        st.none(),
        st.text(max_size=50),
        st.just(
            json.dumps(
                {"templateType": "ListPicker", "data": {"content": {"title": "t", "elements": [{"title": "a"}]}}}
            )
        ),
    ),
    st.booleans(),
    st.sampled_from(["MESSAGE", "EVENT", "ATTACHMENT", "TYPING", ""]),
)
def test_only_forwardable_items_ever_reach_the_customer(role, visibility, content_type, content, with_file, item_type):
    messenger, sessions = Recorder(), Sessions()
    # MemoryChat: the connection is never used here (every chat's window and token are fresh).
    relay = OutboundRelay(sessions, Dedupe(), messenger, Attachments(), MemoryChat(), Redactor(frozenset()))
    files = [{"AttachmentId": "a", "ContentType": "image/png", "Status": "APPROVED"}] if with_file else None
    event = sns_event(
        stream_item(
            "contact-1",
            role=role,
            visibility=visibility,
            content_type=content_type,
            content=content,
            attachments=files,
            item_type=item_type or None,
        )
    )
    result = relay.handle_event(event)  # never raises
    assert len(result.outcomes) == 1
    if messenger.calls:
        assert role.upper() in ("AGENT", "SYSTEM", "CUSTOM_BOT")
        assert visibility.upper() in ("ALL", "CUSTOMER")
        if content_type in ("application/json", "application/vnd.amazonaws.connect.message.interactive"):
            assert all(text != content for kind, text in messenger.calls if kind == "text")  # rendered, never raw
    if role.upper() == "CUSTOMER" and not sessions.ended:
        assert messenger.calls == []
