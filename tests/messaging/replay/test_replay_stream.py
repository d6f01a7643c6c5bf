"""Replay Connect's documented stream records and the chat widget's interactive message examples
(tests/messaging/fixtures_public/connect_stream.json) to a Messenger customer through connect_stream_handler.

Each record is set on a real chat: a customer writes first (so a session exists), then the record,
re-addressed to that chat's contact, is streamed. The customer must get what is meant for them, in a
form Messenger shows (no raw markdown, a carousel as a generic template), and what cannot be shown
must be told to the agent instead of vanishing.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.messaging.replay import corpus
from tests.messaging.replay.known_failures import KNOWN_STREAM
from tests.messaging.replay.world import OPENING_WEBHOOK

MARKDOWN = re.compile(r"\*\*|__|\]\(|<!--|^#+ ", re.M)


def _params():
    for case in corpus.stream_cases():
        marks = [pytest.mark.xfail(reason=KNOWN_STREAM[case.id], strict=True)] if case.id in KNOWN_STREAM else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", _params())
def test_stream_record_reaches_the_customer_or_the_agent_is_told(case, world):
    assert world.post(json.dumps(OPENING_WEBHOOK).encode()).status_code == 200
    (chat,) = world.connect.chats()
    agent_items_before = len(world.agent_items())
    world.stream(case.readdressed(chat.contact_id))
    sent = [call["body"] for call in world.sent_to_customers()]
    messages = [body["message"] for body in sent if "message" in body]
    shown = json.dumps(messages, ensure_ascii=False)
    told_agent = world.agent_items()[agent_items_before:]

    role, visibility = case.attributes["ParticipantRole"], case.attributes["MessageVisibility"]
    content_type = case.message["ContentType"]
    for_customer = visibility in ("CUSTOMER", "ALL") and role != "CUSTOMER"
    if not for_customer or case.message["Type"] not in ("MESSAGE",):
        assert not messages, "something not meant for the customer was sent"
        return
    if content_type == "application/vnd.amazonaws.connect.message.interactive":
        template = json.loads(case.message["Content"])
        kind = template["templateType"]
        if kind == "ViewResource":
            assert told_agent, "a form the customer cannot see was dropped without telling the agent"
            return
        assert messages, f"{kind} never reached the customer"
        assert not MARKDOWN.search(shown), "raw markdown reached the customer"
        if kind == "Carousel":
            payloads = [m.get("attachment", {}).get("payload", {}) for m in messages]
            generic = [p for p in payloads if p.get("template_type") == "generic"]
            assert generic and 1 <= len(generic[0]["elements"]) <= 10, "a carousel is a generic template"
        return
    assert messages, "a message for the customer never reached them"
    assert not MARKDOWN.search(shown), "raw markdown reached the customer"
