"""Conversations built from corpus payloads, where one body alone cannot show the failure: two postbacks
without a mid, a typed number answering a numbered list, an expired ConnectionToken, a chat the agent
ended, several Pages and an Instagram account served by one deployment."""

from __future__ import annotations

import copy
import json

from tests.messaging.replay import corpus
from tests.messaging.replay.world import OPENING_WEBHOOK, replay_world, token_for


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def customer_text(text: str, mid: str, psid: str = "psid-replay-1", page: str = "PAGE_ID") -> bytes:
    body = copy.deepcopy(OPENING_WEBHOOK)
    entry = body["entry"][0]
    entry["id"] = page
    entry["messaging"][0].update(sender={"id": psid}, recipient={"id": page}, message={"mid": mid, "text": text})
    return raw(body)


def test_two_postbacks_without_mid_both_reach_the_agent(monkeypatch):
    with replay_world(monkeypatch) as world:
        for case_id in (
            "meta.messaging_postbacks.get_started_without_mid",
            "meta.messaging_postbacks.talk_to_agent_without_mid",
        ):
            assert world.post(corpus.case(case_id).raw).status_code == 200
        view = world.agent_view()
        assert "Get Started" in view and "Talk to an agent" in view


def test_a_typed_number_is_the_option_it_names(monkeypatch):
    (quick_reply,) = [c for c in corpus.stream_cases() if c.id == "chat-interface.QuickReply.L265"]
    with replay_world(monkeypatch) as world:
        world.post(raw(OPENING_WEBHOOK))
        (chat,) = world.connect.chats()
        world.stream(quick_reply.readdressed(chat.contact_id))
        shown = json.dumps([call["body"] for call in world.sent_to_customers()])
        assert "3. Lorem ipsum dolor sit amet" in shown  # too long for a quick reply: a numbered list
        world.post(customer_text("3", "m_typed_3"))
        assert "Lorem ipsum dolor sit amet" in world.connect.agent_view(chat.contact_id)


def test_expired_tokens_keep_one_contact_per_customer(monkeypatch):
    with replay_world(monkeypatch) as world:
        world.post(customer_text("first", "m_first"))
        world.connect.model.expire_connection_tokens()
        assert world.post(customer_text("second", "m_second")).status_code == 200
        (chat,) = world.connect.chats()
        assert not chat.ended
        assert world.connect.agent_view(chat.contact_id).splitlines() == ["first", "second"]


def test_a_chat_the_agent_ended_is_followed_by_a_new_one(monkeypatch):
    with replay_world(monkeypatch) as world:
        world.post(customer_text("first", "m_first"))
        (first,) = world.connect.chats()
        world.connect.model.agent_end_chat(first.contact_id)
        assert world.post(customer_text("second", "m_second")).status_code == 200
        old, new = world.connect.chats()
        assert old.ended and not new.ended
        assert world.connect.agent_view(new.contact_id) == "second"


def test_each_customer_is_answered_with_the_token_of_the_page_they_wrote_to(monkeypatch):
    with replay_world(monkeypatch) as world:
        world.post(customer_text("on the first page", "m_a", psid="psid-a", page="111899832631525"))
        world.post(customer_text("on the second page", "m_b", psid="psid-b", page="404217156637689"))
        for chat, page in zip(world.connect.chats(), ("111899832631525", "404217156637689"), strict=True):
            world.connect.model.agent_message(chat.contact_id, f"reply for {page}")
            world.stream(
                *[_as_record(item) for item in world.connect.published if item.get("Content") == f"reply for {page}"]
            )
        sends = world.sent_to_customers()
        tokens = {
            call["body"]["recipient"]["id"]: call["authorization"] or call["body"].get("access_token") for call in sends
        }
        assert token_for("111899832631525") in tokens["psid-a"]
        assert token_for("404217156637689") in tokens["psid-b"]


def test_an_instagram_customer_gets_a_contact_marked_instagram_and_replies(monkeypatch):
    with replay_world(monkeypatch) as world:
        assert world.post(corpus.case("meta.instagram.text").raw).status_code == 200
        (chat,) = world.connect.chats()
        assert chat.attributes["Channel"] == "instagram"
        world.connect.model.agent_message(chat.contact_id, "Hi from the agent")
        world.stream(
            *[_as_record(item) for item in world.connect.published if item.get("Content") == "Hi from the agent"]
        )
        (send,) = world.sent_to_customers()
        assert send["body"]["recipient"]["id"] == "<IGSID>"
        assert token_for("<YOUR_APP_USERS_INSTAGRAM_ACCOUNT_ID>") in (send["authorization"] or "")


def _as_record(item: dict) -> tuple[str, dict]:
    attributes = {
        "InitialContactId": item["InitialContactId"],
        "ContactId": item["ContactId"],
        "ParticipantRole": item["ParticipantRole"],
        "InstanceId": "i",
        "AccountId": "123456789012",
        "Type": "EVENT" if item["Type"] == "EVENT" else "MESSAGE",
        "ContentType": item["ContentType"],
        "MessageVisibility": "ALL",
    }
    return json.dumps(item), {k: {"Type": "String", "Value": v} for k, v in attributes.items()}


def test_the_customer_is_told_when_the_scanner_rejects_their_file(world):
    world.post(customer_text("here is my file", "m_file"))
    (chat,) = world.connect.chats()
    rejected = {
        "AbsoluteTime": "2026-12-06T00:00:00.000Z",
        "Id": "item-rejected-1",
        "Type": "ATTACHMENT",
        "ContentType": "application/pdf",
        "ParticipantId": "p",
        "DisplayName": "Messenger customer",
        "ParticipantRole": "CUSTOMER",
        "InitialContactId": chat.contact_id,
        "ContactId": chat.contact_id,
        "Attachments": [
            {
                "AttachmentId": "a-1",
                "AttachmentName": "messenger-file-1.pdf",
                "ContentType": "application/pdf",
                "Status": "REJECTED",
            }
        ],
    }
    world.stream(_as_record(rejected))
    world.stream(_as_record(rejected))  # SNS redelivers: the customer is told once
    texts = [call["body"]["message"].get("text", "") for call in world.sent_to_customers()]
    assert len([t for t in texts if "couldn't accept the file" in t]) == 1
