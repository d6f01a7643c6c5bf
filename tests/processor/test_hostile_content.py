"""Hostile shapes cost linear work: a markdown reader that rescanned the rest of the text at every `](` or backtick
run, or a JSON projection that let a list of numbers read as one digit run, would take minutes on one message.
Costs are counted as work (passes, matches), never timed."""

from __future__ import annotations

import json
import re

from chalicelib.processor import json_values, markdown
from tests.processor.helpers import CARD, content_of, event, processor


class Counting:
    """A compiled pattern that counts how often each method is used."""

    def __init__(self, pattern: re.Pattern):
        self._pattern = pattern
        self.calls: dict[str, int] = {}

    def __getattr__(self, name):
        method = getattr(self._pattern, name)

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args, **kwargs)

        return counted


def test_unclosed_link_destinations_are_paired_in_one_pass(monkeypatch):
    events = Counting(markdown._PAREN_EVENTS)
    monkeypatch.setattr(markdown, "_PAREN_EVENTS", events)
    source = "[a](" * 20000 + "[b](https://example.com/x)"
    projection = markdown.project(source)
    assert events.calls == {"finditer": 1}
    assert projection.blocked[len(source) - 1] == 1  # the one real link's `)` is syntax


def test_backtick_runs_of_every_length_are_indexed_once(monkeypatch):
    runs = Counting(markdown._BACKTICKS)
    monkeypatch.setattr(markdown, "_BACKTICKS", runs)
    source = "".join("`" * k + "x" for k in range(1, 600))
    markdown.project(source)
    assert runs.calls["finditer"] == 1
    assert runs.calls["match"] == 599  # one per run reached, whatever the text after it


def test_a_code_span_closes_only_on_a_run_of_its_own_length():
    projection = markdown.project(f"``a ` {CARD}`` and `b`")
    assert projection.code[3] == 1 and projection.code[len("``a ` ")] == 1


def test_a_json_list_of_numbers_is_one_detection_per_value():
    document = json.dumps([CARD] * 300)
    projection = json_values.project(document)
    analysis = processor()._inbound.analyze(projection.text)
    assert len(analysis.spans) == 300
    answer = processor().process(event(document, "application/json"))
    assert json.loads(content_of(answer)) == ["[CREDIT_DEBIT_NUMBER]"] * 300
