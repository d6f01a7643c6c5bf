"""The project's public test corpus (tests/corpus/): every file decided three ways, counted against its label.

- ours: the scanner as deployed (structure checks + ClamAV when a clamd address is given), moderation a
  stand-in that finds nothing (the corpus images are harmless; Rekognition's judgement is not ours);
- AWS sample: the logic of the public AWS attachment-scanner sample, which moderates images and approves
  every other file (so it approves whatever is not an image);
- clamd alone: REJECTED only when clamd finds something or fails.

A label is `approve` (a harmless file an agent should get) or `reject` (malware, active content, or content that
cannot be inspected, such as a password-protected document). Used by tests/scanning/test_corpus.py (budgets)
and benchmarks/bench_scanner.py (figures in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.scanning.clamav import Address, ClamavEngine, ClamdClient
from chalicelib.scanning.deadline import Deadline
from chalicelib.scanning.source import MemorySource

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png"})  # what the AWS sample sends to Rekognition


@dataclass(frozen=True)
class Item:
    file: str  # <source>/<upload name>, relative to tests/corpus/files
    expected: str  # approve | reject
    category: str
    origin: str

    @property
    def name(self) -> str:
        return self.file.rsplit("/", 1)[-1]

    @property
    def data(self) -> bytes:
        return (CORPUS / "files" / self.file).read_bytes()


@dataclass
class Tally:
    false_approvals: list[str] = field(default_factory=list)
    false_rejections: list[str] = field(default_factory=list)
    dangerous: int = 0
    harmless: int = 0
    times_ms: list[float] = field(default_factory=list)

    def count(self, item: Item, approved: bool) -> None:
        if item.expected == "reject":
            self.dangerous += 1
            if approved:
                self.false_approvals.append(item.file)
        else:
            self.harmless += 1
            if not approved:
                self.false_rejections.append(item.file)

    @property
    def false_rejection_rate(self) -> float:
        return len(self.false_rejections) / self.harmless if self.harmless else 0.0


def items() -> list[Item]:
    with open(CORPUS / "manifest.csv", newline="") as handle:
        return [Item(**row) for row in csv.DictReader(handle)]


def ours(item: Item, clamd_address: str | None):
    from tests.scanning.helpers import FakeModerator, decide

    antivirus = ClamavEngine(ClamdClient(Address.parse(clamd_address))) if clamd_address else None
    return decide(item.name, item.data, FakeModerator(None), antivirus)


def aws_sample(item: Item) -> bool:
    return True  # images: moderated (the stand-in finds nothing); everything else: approved unread


def clamd_alone(item: Item, clamd_address: str) -> bool:
    reply = ClamdClient(Address.parse(clamd_address)).instream(MemorySource(item.data).stream(), Deadline.after(30))
    return reply.clean


def evaluate(clamd_address: str | None) -> dict[str, Tally]:
    tallies = {"ours": Tally(), "aws_sample": Tally()}
    if clamd_address:
        tallies["clamd_alone"] = Tally()
    for item in items():
        start = time.perf_counter()
        verdict = ours(item, clamd_address)
        tallies["ours"].times_ms.append((time.perf_counter() - start) * 1000)
        tallies["ours"].count(item, verdict.approved)
        tallies["aws_sample"].count(item, aws_sample(item))
        if clamd_address:
            tallies["clamd_alone"].count(item, clamd_alone(item, clamd_address))
    return tallies
