"""Which of a set of hint words a text holds: the cheap substrings detectors need before their patterns are worth
running (detectors.py), found by searching a prefix tree of them all rather than by an `in` test per word."""

from __future__ import annotations

import re
from collections.abc import Iterable

from chalicelib.redaction import languages as lang


class HintWords:
    __slots__ = ("_any", "_implied")

    def __init__(self, hints: Iterable[str]):
        words = {hint.lower() for hint in hints}
        tree = lang.prefix_tree(words)
        # The tree's match at a position is the longest hint starting there; `_implied` adds the hints that are its
        # prefixes ("exp" in "expiry").
        self._any = re.compile(tree)
        self._implied = {word: frozenset(h for h in words if word.startswith(h)) for word in words}

    def found_in(self, lowered: str) -> set[str]:
        """The hint words `lowered` (lower-cased text) holds."""
        present: set[str] = set()
        # A search from each hint's next character on, so that a hint inside another ("code" in "passcode") is found
        # too. Each search skips to the next character that can start a hint; a look-ahead over the tree, tried at
        # every position, cost more (~1,700 instructions a message on the real-world corpus).
        match = self._any.search(lowered)
        while match is not None:
            word = match.group()
            present.update(self._implied.get(word, (word,)))  # (a hint with a space matches other spacing)
            match = self._any.search(lowered, match.start() + 1)
        return present
