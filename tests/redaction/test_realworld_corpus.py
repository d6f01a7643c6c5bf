"""The real-world corpus (benchmarks/data/realworld/): every item cited, every checksum value valid, and the
quality budgets of issue 13 held as counts (`make bench` adds Presidio beside us, and the speed figures)."""

from __future__ import annotations

import json

import pytest

from chalicelib.redaction import checksums
from tests.redaction import realworld_evaluation as rw

DATA = rw.DATA


def _sources(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["sources"]


@pytest.mark.parametrize("name", ["cards.json", "examples.json", "pii_free.json"])
def test_every_source_is_cited_with_its_licence(name):
    for source in _sources(name):
        assert source["name"] and source["url"].startswith("https://") and source["licence"] and source["values"]


@pytest.mark.parametrize("name", ["stdnum_values.jsonl", "presidio_cases.jsonl"])
def test_every_extracted_row_names_its_file_commit_and_licence(name):
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert rows
    for row in rows:
        assert row["licence"] in ("LGPL-2.1-or-later", "MIT")
        assert "/blob/" in row["url"] and len(row["url"].split("/blob/")[1].split("/")[0]) == 40  # a commit


def test_readme_lists_every_data_file():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for path in DATA.iterdir():
        if path.suffix in (".json", ".jsonl"):
            assert path.name in readme


def test_published_card_numbers_pass_luhn():
    for source in _sources("cards.json"):
        for value in source["values"]:
            assert checksums.luhn_ok(checksums.digits_of(value)), (source["name"], value)


def test_corpus_checksum_values_are_valid():
    checks = {
        "INTERNATIONAL_BANK_ACCOUNT_NUMBER": lambda v: checksums.iban_ok("".join(c for c in v if c.isalnum())),
        "SSN": lambda v: checksums.ssn_ok(checksums.digits_of(v)),
        "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER": lambda v: checksums.itin_ok(checksums.digits_of(v)),
        "CA_SOCIAL_INSURANCE_NUMBER": lambda v: checksums.sin_ok(checksums.digits_of(v)),
        "BANK_ROUTING": lambda v: checksums.routing_ok(checksums.digits_of(v)),
        "UK_NATIONAL_INSURANCE_NUMBER": lambda v: checksums.nino_shape(v.replace(" ", "")),
    }
    for value in rw.load_values():
        if value.kind in checks:
            assert checks[value.kind](value.value), (value.kind, value.value, value.source)


def test_corpus_covers_every_language_and_type():
    messages = rw.messages()
    assert {m.language for m in messages} == set(rw.LANGUAGES)
    assert {m.value.kind for m in messages if m.value} == set(rw.VALUE_TYPES)
    assert len(rw.split_conversations()) >= 150
    assert sum(1 for m in messages if m.value is None) >= 400


def test_presidio_cases_are_presidio_s_own_tests():
    cases = rw.load_presidio_cases()
    assert len(cases) > 400
    assert all(case["source"].startswith("presidio presidio-analyzer/tests/test_") for case in cases)


@pytest.fixture(scope="module")
def report() -> rw.CorpusReport:
    return rw.evaluate(rw.ours_engine())


def test_no_checksum_validated_value_leaks(report):
    assert report.checksum_leaked == 0


def test_at_most_one_percent_of_values_leak(report):
    assert report.leaked <= 0.01 * report.values


def test_at_most_two_percent_of_pii_free_messages_altered(report):
    assert report.free_altered <= 0.02 * report.free


def test_presidio_recognizer_tests_pass_at_least_95_percent():
    suite = rw.run_presidio_suite(rw.ours_for_type)
    assert suite.cases >= 400
    assert suite.passed >= 0.95 * suite.cases
