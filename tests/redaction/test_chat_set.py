"""The labelled chat set as a regression test: nothing sensitive leaks, PII-free messages stay as they are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chalicelib.settings import COMPREHEND_PII_TYPES
from tests.redaction import evaluation as ev

ROOT = Path(__file__).resolve().parents[2]


def test_chat_set_matches_its_generator(tmp_path):
    script = ROOT / "tests" / "data" / "make_chat_set.py"
    subprocess.run([sys.executable, str(script), str(tmp_path / "out.jsonl")], check=True, capture_output=True)
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == ev.CHAT_SET.read_text(encoding="utf-8")


def test_chat_set_labels_point_at_real_values():
    for conversation in ev.load_chat_set():
        for message in conversation["messages"]:
            for kind, start, end in message["spans"]:
                value = message["text"][start:end]
                assert value.strip() == value and value, (conversation["id"], kind)


def test_no_sensitive_value_leaks_and_pii_free_messages_stay_unchanged():
    report = ev.evaluate_chat_set(ev.ours_conversation())
    assert sum(report.leak_total.values()) > 300
    assert dict(report.leaked) == {kind: 0 for kind in report.leak_total}
    assert report.clean_messages > 400
    assert report.clean_altered_rate <= 0.01


def test_presidio_set_card_recall_and_precision():
    report = ev.evaluate_presidio_set(ev.ours_detect(ev.PRESIDIO_SET_TYPES))
    card = report.scores["CREDIT_DEBIT_NUMBER"]
    assert card.gold == 136
    assert card.recall is not None and card.precision is not None  # None only with nothing to score
    assert card.recall >= 0.99 and card.precision >= 0.99
    # The mapping the README documents: onto types Comprehend has, covering every type this set scores.
    assert set(ev.PRESIDIO_TO_COMPREHEND.values()) <= COMPREHEND_PII_TYPES
    assert set(ev.PRESIDIO_SET_TYPES) <= set(ev.PRESIDIO_TO_COMPREHEND.values())
