"""Issue 17, bounded by what is sent: the check that decides whether a customer message waits for the reorder
second (only digits depend on an earlier message's context) read the whole text, before the cut to what
reaches the agent. Found by `bench_adversarial` on 2026-12-06: a 1 MiB text of words cost 35-65 ms in that
check alone (1,048,576 Python steps), against 2 ms for the cut-and-redact path of a 1 MiB text of dates; and a
digit past the cut, which the agent never sees, made the message wait the second.

Now the check reads each text as `truncated` cuts it: the same cut, so the answer is "a digit the agent can
see", and the work is bounded by what is sent.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import settings as app_settings
from chalicelib.messaging import inbound as inbound_module
from chalicelib.messaging.connect.chat import TEXT_LIMIT
from chalicelib.messaging.inbound import MAX_TEXT_PIECES, InboundMessages, truncated
from chalicelib.messaging.meta.webhook import Text, parse_item
from chalicelib.redaction.redactor import build_redactor
from tests.messaging.fakes import MemoryChat, MemoryDedupe, MemoryForwarder, MemorySessions
from tests.messaging.fixtures import item

BOUND = MAX_TEXT_PIECES * TEXT_LIMIT
ONE_MB = 1024 * 1024
NOW = 1_800_000_000.0


def deliver_fresh(text: str) -> list[float]:
    """Deliver `text`, sent 100 ms ago (so a message with a digit waits for the reorder); the sleeps asked for."""
    slept: list[float] = []
    redactor = build_redactor(app_settings.RedactionSettings.parse(app_settings._Reader({})))
    inbound = InboundMessages(
        MemorySessions(),
        MemoryDedupe(),
        MemoryChat(),
        redactor,
        MemoryForwarder(),
        clock=lambda: NOW,
        sleep=slept.append,
    )
    event = parse_item(item("psid-9", int(NOW * 1000) - 100, message={"mid": "m_1", "text": text}))
    assert inbound.handle(event).result == "delivered"
    return slept


def test_a_digit_past_the_cut_does_not_wait_for_the_reorder():
    words = ("please call me back about my order " * (ONE_MB // 35 + 1))[: ONE_MB - 1] + "7"
    assert deliver_fresh(words) == []  # was a 0.9 s wait for a digit nobody sees


def test_a_digit_before_the_cut_still_waits():
    text = "card 4539 1488 " + ("please call me back " * (ONE_MB // 20))[:ONE_MB]
    slept = deliver_fresh(text)
    assert slept and 0.8 <= slept[0] <= 1.0


def test_the_digit_check_reads_only_what_the_cut_keeps(monkeypatch):
    """Work count: the characters handed to the digit check, for a 1 MiB text, are at most what reaches the
    agent (was the whole 1,048,576)."""
    examined = []
    real_cut = inbound_module._cut

    def counting_cut(text, limit):
        cut = real_cut(text, limit)
        examined.append(len(text) if cut is None else cut)
        return cut

    monkeypatch.setattr(inbound_module, "_cut", counting_cut)
    words = ("please call me back about my order " * (ONE_MB // 35 + 1))[:ONE_MB]
    deliver_fresh(words)
    assert examined and max(examined) <= BOUND


@settings(max_examples=150, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=3 * BOUND),
    digit_at=st.integers(min_value=0, max_value=3 * BOUND),
    filler=st.sampled_from(["a", "ab ", "é ", "😀", "-", " "]),
)
def test_waits_exactly_when_the_agent_can_see_a_digit(length, digit_at, filler):
    text = (filler * (length // len(filler) + 1))[:length]
    if digit_at < length:
        text = text[:digit_at] + "5" + text[digit_at + 1 :]
    event = parse_item(item("psid-9", 0, message={"mid": "m_1", "text": text or "x"}))
    assert isinstance(event, Text)
    shown = truncated(text or "x")
    assert inbound_module._has_digit(event, "none") == any(ch.isdigit() for ch in shown)
