"""The Meta webhook parser for both channels (Messenger, Instagram) and the accounts a deployment serves:
the shapes the replay corpus showed (tests/messaging/fixtures_public/), one small test each."""

from __future__ import annotations

import json

import pytest

from chalicelib.messaging.meta.accounts import AccountsError, MetaAccounts
from chalicelib.messaging.meta.address import CustomerAddress
from chalicelib.messaging.meta.webhook import (
    Attachments,
    Edit,
    Other,
    Postback,
    Text,
    Unsupported,
    message_key,
    parse_payload,
)


def body(obj: str, *items: dict, entry_id: str = "ACCOUNT", key: str = "messaging") -> bytes:
    return json.dumps({"object": obj, "entry": [{"id": entry_id, "time": 1, key: list(items)}]}).encode()


def item(**kind) -> dict:
    return {"sender": {"id": "S1"}, "recipient": {"id": "ACCOUNT"}, "timestamp": 1458692752478, **kind}


def test_instagram_events_carry_their_channel_and_account():
    (event,) = parse_payload(body("instagram", item(message={"mid": "m1", "text": "hi"})))
    assert isinstance(event, Text)
    assert (event.origin.channel, event.origin.account_id) == ("instagram", "ACCOUNT")
    assert CustomerAddress.of(event.origin).customer_id == "ACCOUNT/S1"


def test_a_known_object_without_entries_is_empty_not_an_error():
    assert parse_payload(b'{"object": "page", "entry": {}}') == ()
    assert parse_payload(b'{"object": "instagram"}') == ()


def test_user_ref_senders_and_string_timestamps():
    raw = {
        "sender": {"user_ref": "REF"},
        "recipient": {"id": "PAGE"},
        "timestamp": "1527459824",
        "postback": {"title": "Talk to an agent", "payload": "AGENT"},
    }
    (event,) = parse_payload(body("page", raw))
    assert isinstance(event, Postback) and event.origin.sender_id == "user_ref:REF"
    assert event.origin.timestamp_ms == 1527459824
    assert CustomerAddress.of(event.origin).recipient() == {"user_ref": "REF"}


def test_dashboard_test_events_in_changes_are_read():
    document = {
        "object": "page",
        "entry": [
            {
                "id": "0",
                "time": 1,
                "changes": [
                    {"field": "messaging_postbacks", "value": item(postback={"title": "T", "payload": "P"})},
                    {"field": "feed", "value": {"item": "status"}},
                ],
            }
        ],
    }
    (event,) = parse_payload(json.dumps(document).encode())
    assert isinstance(event, Postback) and event.title == "T"


def test_edits_are_customer_messages_keyed_by_their_number():
    (first,) = parse_payload(body("page", item(message_edit={"mid": "m1", "text": "fixed", "num_edit": 1})))
    (second,) = parse_payload(body("page", item(message_edit={"mid": "m1", "text": "fixed again", "num_edit": 2})))
    assert isinstance(first, Edit) and first.text == "fixed"
    assert isinstance(second, Edit)
    assert message_key(first) != message_key(second) != "m1"


@pytest.mark.parametrize(
    "message, what",
    [
        ({"mid": "m1", "is_unsupported": True}, "unsupported"),
        ({"mid": "m1", "attachments": [{"type": "ephemeral", "payload": {}}]}, "ephemeral"),
    ],
)
def test_content_meta_will_not_show_is_still_an_event(message, what):
    (event,) = parse_payload(body("instagram", item(message=message)))
    assert isinstance(event, Unsupported) and event.what == what


def test_unsent_messages_are_known_and_ignored():
    (event,) = parse_payload(body("instagram", item(message={"mid": "m1", "is_deleted": True})))
    assert isinstance(event, Other) and event.name == "message_deleted"


def test_a_sticker_pair_and_a_post_pair_are_one_attachment_each():
    sticker = {"type": "sticker", "payload": {"url": "https://cdn/s.png", "sticker_id": 369239263222822}}
    image = {"type": "image", "payload": {"url": "https://cdn/s.png", "sticker_id": 369239263222822}}
    share = {"type": "share", "payload": {"url": "https://cdn/p", "title": "Caption"}}
    post = {"type": "ig_post", "payload": {"url": "https://cdn/p", "title": "Caption", "ig_post_media_id": "1"}}
    (event,) = parse_payload(
        body("instagram", item(message={"mid": "m1", "attachments": [sticker, image, share, post]}))
    )
    assert isinstance(event, Attachments)
    assert [(a.type, a.title) for a in event.attachments] == [("sticker", None), ("ig_post", "Caption")]


def test_links_keep_url_and_title_and_locations_their_coordinates():
    legacy = {"type": "fallback", "payload": None, "title": "A page", "URL": "https://example.com/a"}
    location = {"type": "location", "payload": {"coordinates": {"lat": 37.48, "long": -122.14}}}
    (event,) = parse_payload(body("page", item(message={"mid": "m1", "attachments": [legacy, location]})))
    assert isinstance(event, Attachments)
    link, place = event.attachments
    assert (link.url, link.title) == ("https://example.com/a", "A page")
    assert (place.latitude, place.longitude) == (37.48, -122.14)


def test_story_replies_keep_the_story_link():
    message = {"mid": "m1", "text": "love it", "reply_to": {"story": {"url": "https://cdn/story", "id": "9"}}}
    (event,) = parse_payload(body("instagram", item(message=message)))
    assert isinstance(event, Text) and event.story_url == "https://cdn/story"


# ------------------------------------------------------------------------------------------ accounts


def test_page_tokens_serve_only_their_accounts_with_their_own_token():
    accounts = MetaAccounts.from_secret({"PAGE_TOKENS": {"P1": "t1", "IG1": "t2"}})
    assert accounts.serves("P1") and accounts.serves("IG1") and not accounts.serves("P2")
    assert (accounts.token_for("P1"), accounts.token_for("IG1"), accounts.token_for("P2")) == ("t1", "t2", None)


def test_a_single_page_token_serves_any_page_unless_page_id_names_it():
    assert MetaAccounts.from_secret({"PAGE_TOKEN": "t"}).serves("anything")
    named = MetaAccounts.from_secret({"PAGE_TOKEN": "t", "PAGE_ID": "P1"})
    assert named.serves("P1") and not named.serves("P2") and named.token_for(None) == "t"


def test_page_tokens_may_be_a_json_string_inside_the_secret():
    assert MetaAccounts.from_secret({"PAGE_TOKENS": '{"P1": "t1"}'}).token_for("P1") == "t1"


@pytest.mark.parametrize(
    "document, reason",
    [
        ({}, "page_token_missing"),
        ({"PAGE_TOKENS": ["t"]}, "page_tokens_not_an_object"),
        ({"PAGE_TOKENS": {"P1": ""}}, "page_tokens_entry_invalid"),
        ({"PAGE_TOKENS": "{not json"}, "page_tokens_not_json"),
    ],
)
def test_malformed_account_keys_are_named_by_a_reason_code(document, reason):
    with pytest.raises(AccountsError) as info:
        MetaAccounts.from_secret(document)
    assert info.value.reason == reason


def test_tokens_never_show_in_a_repr():
    assert "t1" not in repr(MetaAccounts.from_secret({"PAGE_TOKENS": {"P1": "t1"}}))
