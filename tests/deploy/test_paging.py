"""infra/paging.py: the deploy tool's list calls follow NextToken, and a search stops asking at its match."""

from __future__ import annotations

from infra.paging import connect_lambda_functions, each_item


class PagedAws:
    """Answers a list call with `pages`, one per call, chained by NextToken; records each call's parameters."""

    def __init__(self, key: str, pages: list[list[str]]):
        self.key, self.pages = key, pages
        self.calls: list[dict[str, str]] = []

    def call(self, service, operation, **params):
        self.calls.append(params)
        index = len(self.calls) - 1
        page: dict[str, list[str] | str] = {self.key: self.pages[index]}
        if index + 1 < len(self.pages):
            page["NextToken"] = f"token-{index + 1}"
        return page


def test_every_page_is_read_in_order_with_the_token_of_the_one_before():
    aws = PagedAws("LambdaFunctions", [["a", "b"], [], ["c"]])
    assert connect_lambda_functions(aws, "instance-1") == ["a", "b", "c"]
    assert aws.calls == [
        {"InstanceId": "instance-1"},
        {"InstanceId": "instance-1", "NextToken": "token-1"},
        {"InstanceId": "instance-1", "NextToken": "token-2"},
    ]


def test_a_search_that_stops_at_its_match_asks_for_no_further_page():
    aws = PagedAws("Subscriptions", [["x"], ["match", "y"], ["z"]])
    assert next(s for s in each_item(aws, "sns", "list_subscriptions_by_topic", "Subscriptions") if s == "match")
    assert len(aws.calls) == 2


def test_a_page_without_the_key_is_an_empty_page():
    class Empty:
        def call(self, service, operation, **params):
            return {}

    assert list(each_item(Empty(), "connect", "list_contact_flows", "ContactFlowSummaryList")) == []
