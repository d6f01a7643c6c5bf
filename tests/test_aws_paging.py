"""chalicelib.aws.page_items: NextToken listings, lazily, and never forever."""

from __future__ import annotations

from chalicelib.aws import page_items


class Pages:
    """A list call answering from fixed pages, counting the calls made."""

    def __init__(self, pages: dict[str | None, dict]):
        self.pages = pages
        self.calls: list[str | None] = []

    def __call__(self, **request):
        token = request.get("NextToken")
        self.calls.append(token)
        return self.pages[token]


def test_every_page_in_order():
    call = Pages(
        {None: {"Items": [1, 2], "NextToken": "a"}, "a": {"Items": [3], "NextToken": "b"}, "b": {"Items": [4]}}
    )
    assert list(page_items(call, "Items", Path="/x")) == [1, 2, 3, 4]
    assert call.calls == [None, "a", "b"]


def test_a_search_that_stops_early_asks_for_no_further_page():
    call = Pages({None: {"Items": [1, 2], "NextToken": "a"}, "a": {"Items": [3]}})
    assert next(item for item in page_items(call, "Items") if item == 2) == 2
    assert call.calls == [None]


def test_a_repeated_token_ends_the_listing():
    call = Pages({None: {"Items": [1], "NextToken": "a"}, "a": {"Items": [2], "NextToken": "a"}})
    assert list(page_items(call, "Items")) == [1, 2]
    assert call.calls == [None, "a"]


def test_a_page_without_the_key_holds_no_items():
    assert list(page_items(Pages({None: {}}), "Items")) == []
