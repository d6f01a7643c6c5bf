"""docs/flows.md shows what the flow files hold: its diagrams and block tables are generated from them."""

from __future__ import annotations

import copy

from infra import flow_docs
from infra.flow_files import FlowFile, load_all


def test_the_page_matches_the_flow_files():
    assert flow_docs.main(["--check"]) == 0, "run `python -m infra.flow_docs` and commit docs/flows.md"


def test_an_edited_flow_no_longer_matches_the_page():
    flows = load_all()
    edited = copy.deepcopy(flows[0].content)
    edited["Actions"][0]["Identifier"] = "renamed"
    text = flow_docs.DOCS_PAGE.read_text()
    assert flow_docs.generated_page(text, [FlowFile(flows[0].key, edited), *flows[1:]]) != text


def test_every_block_of_every_flow_says_why_it_is_there():
    for flow_file in load_all():
        why = flow_file.content["Metadata"]["ConnectGuard"]["Blocks"]
        assert set(why) == {a["Identifier"] for a in flow_file.content["Actions"]}, flow_file.key
        assert all(len(text) > 10 for text in why.values())


def test_every_block_and_every_branch_is_drawn():
    for flow_file in load_all():
        diagram = flow_docs.mermaid(flow_file.content)
        for action in flow_file.content["Actions"]:
            assert (
                f"{flow_docs.node_id(action['Identifier'])}[" in diagram
                or f"{flow_docs.node_id(action['Identifier'])}{{" in diagram
                or f"{flow_docs.node_id(action['Identifier'])}([" in diagram
            )
            for error in action["Transitions"].get("Errors", []):
                assert error["ErrorType"] in diagram
        assert " end" not in diagram.replace("a_end", "")  # `end` is a Mermaid keyword
