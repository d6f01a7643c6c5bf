"""End to end against the running sandbox: the real app between Messenger, Connect and Graph emulators.

Everything goes through the sandbox's public HTTP API (what the page uses), so these tests see what a
person at the page sees.
"""

from __future__ import annotations

import base64
import signal
import uuid

import pytest
import requests

from chalicelib.version import VERSION
from tests.sandbox import files
from tests.sandbox.stack import PROJECT_DIR, eventually, start_sandbox, stop_sandbox, unique_word

pytestmark = pytest.mark.e2e

CARD = "4111 1111 1111 1111"


def new_psid() -> str:
    return str(7_000_000_000_000_000 + uuid.uuid4().int % 1_000_000_000_000)


def customer_says(sandbox, psid: str, text: str) -> None:
    answer = sandbox.api("customer/message", {"psid": psid, "text": text})
    assert answer.status_code == 200, answer.text
    assert answer.json()["webhook_status"] == 200


def agent_messages(contact: dict) -> list[str]:
    return [item["text"] for item in contact["items"] if item["kind"] == "message" and item["role"] == "CUSTOMER"]


def contact_with(sandbox, marker: str) -> dict:
    def find():
        for contact in sandbox.state()["contacts"]:
            if any(marker in text for text in agent_messages(contact)):
                return contact
        return None

    return eventually(find)


def page_texts(sandbox, psid: str) -> list[str]:
    return [entry["text"] for entry in sandbox.state(psid)["customer"] if entry["from"] == "page" and entry["text"]]


# ------------------------------------------------------------------------------------------ the stack itself


def test_the_page_is_served_and_the_app_is_behind_it(sandbox):
    page = requests.get(sandbox.urls["sandbox"], timeout=10)
    assert page.status_code == 200
    for element_id in (
        "customer-input",
        "customer-send",
        "customer-transcript",
        "customer-file",
        "agent-input",
        "agent-send",
        "agent-transcript",
        "agent-end",
        "ivr-input",
        "ivr-send",
        "ivr-result",
    ):
        assert f'id="{element_id}"' in page.text
    assert requests.get(f"{sandbox.base}/health", timeout=10).json() == {"status": "ok", "version": VERSION}


def test_the_sandbox_api_refuses_bad_input(sandbox):
    assert sandbox.api("customer/message", {"text": "   "}).status_code == 400
    assert sandbox.api("customer/message", {"text": 42}).status_code == 400
    assert sandbox.api("customer/file?name=x.png", data=b"").status_code == 400
    assert sandbox.api("agent/message", {"contact_id": "no-such-contact", "text": "hi"}).status_code == 400
    assert sandbox.api("agent/end", {"contact_id": "no-such-contact"}).status_code == 400
    assert sandbox.api("ivr", {"digits": "1" * 65}).status_code in (400, 503)
    not_json = requests.post(f"{sandbox.base}/sandbox/api/agent/message", data=b"{oops", timeout=10)
    assert not_json.status_code == 400
    assert requests.get(f"{sandbox.base}/sandbox/media/unknown", timeout=10).status_code == 404
    assert requests.get(f"{sandbox.base}/sandbox/cdn/unknown/x.png", timeout=10).status_code == 404


def test_ctrl_c_stops_every_process():
    process, urls = start_sandbox("sandbox-sigint.log")
    assert stop_sandbox(process, signal.SIGINT) == 0
    for name in ("app", "lambda_host", "connect", "graph", "moto"):
        with pytest.raises(requests.ConnectionError):
            requests.get(urls[name], timeout=2)


# ------------------------------------------------------------------------------------------ messaging


def test_a_card_number_reaches_the_agent_masked(sandbox):
    marker = unique_word()
    customer_says(sandbox, new_psid(), f"order {marker}: my card is {CARD}, thanks")
    contact = contact_with(sandbox, marker)
    text = next(t for t in agent_messages(contact) if marker in t)
    assert "4111" not in text and "1111 1111" not in text
    assert text.startswith(f"order {marker}: my card is ") and text.endswith(", thanks")


def test_an_agent_reply_reaches_the_right_customer(sandbox):
    alice, bob = new_psid(), new_psid()
    marker_a, marker_b = unique_word(), unique_word()
    customer_says(sandbox, alice, f"hello from {marker_a}")
    customer_says(sandbox, bob, f"hello from {marker_b}")
    contact_a, contact_b = contact_with(sandbox, marker_a), contact_with(sandbox, marker_b)
    assert contact_a["contact_id"] != contact_b["contact_id"]
    reply = f"reply for {marker_a}"
    assert sandbox.api("agent/message", {"contact_id": contact_a["contact_id"], "text": reply}).status_code == 200
    eventually(lambda: reply in page_texts(sandbox, alice))
    assert reply not in page_texts(sandbox, bob)
    delivered = next(e for e in sandbox.state(alice)["customer"] if e.get("text") == reply)
    assert delivered["messaging_type"] == "RESPONSE"


def test_a_redelivered_webhook_reaches_the_agent_once(sandbox):
    psid, marker = new_psid(), unique_word()
    mid = sandbox.api("customer/message", {"psid": psid, "text": f"just once {marker}"}).json()["mid"]
    contact_with(sandbox, marker)
    again = sandbox.api("customer/resend", {"mid": mid}).json()  # Meta: at least once
    assert again["webhook_status"] == 200
    copies = [t for c in sandbox.state()["contacts"] for t in agent_messages(c) if marker in t]
    assert copies == [f"just once {marker}"]


def test_a_redelivered_stream_notification_reaches_the_customer_once(sandbox):
    psid, marker = new_psid(), unique_word()
    customer_says(sandbox, psid, f"hello {marker}")
    contact = contact_with(sandbox, marker)["contact_id"]
    reply = f"only once {marker}"
    item_id = sandbox.api("agent/message", {"contact_id": contact, "text": reply}).json()["id"]
    eventually(lambda: reply in page_texts(sandbox, psid))
    assert sandbox.api("stream/redeliver", {"item_id": item_id}).status_code == 200  # SNS: at least once
    eventually(lambda: sandbox.state()["stream"]["QUEUED"] == 0)
    assert page_texts(sandbox, psid).count(reply) == 1


def test_after_the_chat_ends_the_next_message_starts_a_new_contact(sandbox):
    psid = new_psid()
    first, second = unique_word(), unique_word()
    customer_says(sandbox, psid, f"first {first}")
    old = contact_with(sandbox, first)
    assert sandbox.api("agent/end", {"contact_id": old["contact_id"]}).status_code == 200
    # The stream handler closes the session on chat.ended; the next message must not hit the dead chat.
    eventually(lambda: sandbox.state()["stream"]["QUEUED"] == 0)
    customer_says(sandbox, psid, f"second {second}")
    new = contact_with(sandbox, second)
    assert new["contact_id"] != old["contact_id"] and not new["ended"]
    assert any(c["contact_id"] == old["contact_id"] and c["ended"] for c in sandbox.state()["contacts"])


def test_an_expired_connection_token_is_recovered_and_the_message_delivered_once(sandbox):
    psid = new_psid()
    first, second = unique_word(), unique_word()
    customer_says(sandbox, psid, f"before {first}")
    contact_with(sandbox, first)
    assert sandbox.api("expire-tokens", {}).status_code == 200
    customer_says(sandbox, psid, f"after {second}")
    contact_with(sandbox, second)
    copies = [t for c in sandbox.state()["contacts"] for t in agent_messages(c) if second in t]
    assert len(copies) == 1


# ------------------------------------------------------------------------------------------ attachments


def attachment_items(sandbox, role: str) -> dict[str, dict]:
    return {
        item["id"]: item
        for contact in sandbox.state()["contacts"]
        for item in contact["items"]
        if item["kind"] == "attachment" and item["role"] == role
    }


def test_a_customer_photo_is_scanned_and_shown_to_the_agent(sandbox):
    psid = new_psid()
    before = attachment_items(sandbox, "CUSTOMER")
    answer = sandbox.api(
        f"customer/file?name=photo.png&psid={psid}", data=files.png(), headers={"Content-Type": "image/png"}
    )
    assert answer.status_code == 200 and answer.json()["webhook_status"] == 200, answer.text
    # The app names the file itself (customers put personal data in file names).
    new = eventually(lambda: [item for key, item in attachment_items(sandbox, "CUSTOMER").items() if key not in before])
    assert len(new) == 1 and new[0]["status"] == "APPROVED"
    download = requests.get(sandbox.base + new[0]["url"], timeout=10)
    assert download.content == files.png()


def test_agent_files_are_scanned_and_only_clean_ones_reach_the_customer(sandbox):
    psid, marker = new_psid(), unique_word()
    customer_says(sandbox, psid, f"send me the receipt {marker}")
    contact = contact_with(sandbox, marker)["contact_id"]

    bad = sandbox.api(
        f"agent/file?name=receipt.pdf&contact_id={contact}",
        data=files.windows_executable(),
        headers={"Content-Type": "application/pdf"},
    )
    assert bad.status_code == 200 and bad.json()["status"] == "REJECTED"
    good = sandbox.api(
        f"agent/file?name=receipt-{marker}.pdf&contact_id={contact}",
        data=files.pdf(),
        headers={"Content-Type": "application/pdf"},
    )
    assert good.status_code == 200 and good.json()["status"] == "APPROVED"

    def received():
        return [e for e in sandbox.state(psid)["customer"] if e["from"] == "page" and e.get("attachment")]

    attachments = eventually(received)
    eventually(lambda: sandbox.state()["stream"]["QUEUED"] == 0)
    assert len(received()) == 1
    media = requests.get(sandbox.base + attachments[0]["attachment"]["url"], timeout=10)
    assert media.content == files.pdf()


def test_eicar_is_rejected_as_malware_by_the_sandbox_clamd(sandbox):
    """The sandbox runs clamd with the repository's test signatures when Debian's clamav-daemon is installed."""
    from sandbox import clamd

    if clamd.binary() is None:
        pytest.skip("clamd is not installed (make clamav)")
    psid, marker = new_psid(), unique_word()
    customer_says(sandbox, psid, f"send me the notes {marker}")
    contact = contact_with(sandbox, marker)["contact_id"]
    answer = sandbox.api(
        f"agent/file?name=notes-{marker}.txt&contact_id={contact}",
        data=clamd.EICAR,
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 200 and answer.json()["status"] == "REJECTED"
    log = PROJECT_DIR / "artifacts" / "sandbox-stack.log"
    decisions = eventually(
        lambda: [
            line for line in log.read_text().splitlines() if "scan_decision" in line and clamd.EICAR_SIGNATURE in line
        ]
    )
    assert '"reason": "malware"' in decisions[-1] or '"reason":"malware"' in decisions[-1]
    assert marker not in decisions[-1]  # the signature name is logged, never the file name


# ------------------------------------------------------------------------------------------ IVR


def test_ivr_digits_round_trip_through_connect_encryption(sandbox):
    answer = sandbox.api("ivr", {"digits": "4111111111111111"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    # An ESDK v1 message, type 0x80, suite 0x0378: the header Connect writes (docs/reference/ivr-encryption.md).
    assert base64.b64decode(result["ciphertext_head"][:8])[:4] == b"\x01\x80\x03\x78"
    external = result["external"]
    assert external["Status"] == "OK"
    assert external.get("Value") == "4111111111111111" and external["Last4"] == "1111"
    assert all(isinstance(value, str) for value in external.values())


def test_ivr_rejects_non_keypad_input(sandbox):
    assert sandbox.api("ivr", {"digits": "12ab"}).status_code == 400


# ------------------------------------------------------------------------------------------ Meta channels (issue 16)


def contacts_of(sandbox, *markers: str) -> list[dict]:
    """Every contact (open or ended) in which the customer wrote one of `markers`."""
    return [c for c in sandbox.state()["contacts"] if any(m in t for t in agent_messages(c) for m in markers)]


def test_expired_tokens_keep_one_contact_per_customer(sandbox):
    """A day of waiting expires the ConnectionTokens; the chat goes on, on the same contact: no second chat
    for the agent, nothing left open."""
    psid = new_psid()
    first, second = unique_word(), unique_word()
    customer_says(sandbox, psid, f"before {first}")
    contact_with(sandbox, first)
    assert sandbox.api("expire-tokens", {}).status_code == 200
    customer_says(sandbox, psid, f"after {second}")
    contact_with(sandbox, second)
    (contact,) = contacts_of(sandbox, first, second)
    assert not contact["ended"]
    assert [t for t in agent_messages(contact) if first in t or second in t] == [f"before {first}", f"after {second}"]


def test_an_instagram_customer_beside_the_messenger_one(sandbox):
    igsid, psid = new_psid(), new_psid()
    on_instagram, on_messenger = unique_word(), unique_word()
    answer = sandbox.api("customer/message", {"psid": igsid, "text": f"hi {on_instagram}", "channel": "instagram"})
    assert answer.status_code == 200 and answer.json()["webhook_status"] == 200
    customer_says(sandbox, psid, f"hi {on_messenger}")
    instagram, messenger = contact_with(sandbox, on_instagram), contact_with(sandbox, on_messenger)
    assert instagram["contact_id"] != messenger["contact_id"]
    assert instagram["attributes"]["Channel"] == "instagram" and messenger["attributes"]["Channel"] == "messenger"
    assert instagram["display_name"] == "Instagram customer"

    # The agent's reply reaches the Instagram customer.
    reply = unique_word()
    assert (
        sandbox.api("agent/message", {"contact_id": instagram["contact_id"], "text": f"reply {reply}"}).status_code
        == 200
    )
    eventually(lambda: any(reply in t for t in page_texts(sandbox, igsid)) or None)
