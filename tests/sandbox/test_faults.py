"""`make chaos`'s pieces that need no running stack: fault rolls, the routers they wrap, the tags it counts by."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from sandbox.chaos import INBOUND_TAG, code, decode, luhn_card
from sandbox.faults import FaultPlan, Faults, trickle
from sandbox.httpkit import Request, Response, Router


def request(path: str = "/participant/message") -> Request:
    return Request("POST", path, {}, {}, b"{}")


def router_answering(status: int = 200) -> tuple[Router, list[str]]:
    calls: list[str] = []
    routes = Router()

    def handle(req: Request) -> Response:
        calls.append(req.path)
        return Response.json({"ok": True}, status)

    routes.add("POST", "/participant/message", handle)
    routes.add("POST", "/", handle)
    return routes, calls


def test_no_faults_plan_injects_nothing():
    faults = Faults(FaultPlan.none())
    routes, calls = router_answering()
    wrapped = faults.connect(routes)
    assert all(wrapped.dispatch(request()).status == 200 for _ in range(200))
    assert len(calls) == 200 and faults.counts() == {}


def test_connect_faults_come_before_or_after_the_call_and_are_counted():
    faults = Faults(FaultPlan(connect_throttle=0.2, connect_5xx=0.2, connect_lost_answer=0.2, seed=3))
    routes, calls = router_answering()
    wrapped = faults.connect(routes)
    answers = [wrapped.dispatch(request()) for _ in range(500)]
    counts = faults.counts()
    assert sum(a.status == 429 for a in answers) == counts["connect_throttle"]
    assert sum(a.status == 500 for a in answers) == counts["connect_5xx"] + counts["connect_lost_answer"]
    # Only calls that were not refused up front ran; a lost answer ran and still answered 500.
    assert len(calls) == 500 - counts["connect_throttle"] - counts["connect_5xx"]
    assert answers[0].headers.get("x-amzn-ErrorType") in (None, "ThrottlingException", "InternalServerException")


def test_rekognition_calls_are_never_faulted():
    faults = Faults(FaultPlan(connect_throttle=1.0, connect_5xx=1.0, connect_lost_answer=1.0))
    routes, _ = router_answering()
    assert faults.connect(routes).dispatch(request("/")).status == 200


def test_the_same_seed_injects_the_same_faults():
    def run() -> list[int]:
        faults = Faults(FaultPlan(graph_5xx=0.3, seed=11))
        routes, _ = router_answering()
        wrapped = faults.graph(routes)
        return [wrapped.dispatch(request()).status for _ in range(100)]

    assert run() == run()


def test_trickle_sends_every_byte_in_order():
    sent: list[bytes] = []
    data = bytes(range(256)) * 5
    trickle(sent.append, data, 0.0, 0.0001, pieces=7)
    assert b"".join(sent) == data and len(sent) == 7


@given(st.integers(min_value=0, max_value=2**40))
def test_tags_are_letters_only_and_decode_back(number):
    letters = code(number)
    assert letters.isalpha() and decode(letters) == number
    assert INBOUND_TAG.findall(f"hi zx{letters}q{code(7)} there") == [(letters, code(7))]


def test_chaos_cards_are_luhn_valid():
    from stdnum import luhn

    rng = random.Random(5)
    assert all(luhn.is_valid(luhn_card(rng)) for _ in range(100))
