"""Which Facebook Pages and Instagram accounts this deployment serves, and each one's token.

From the Messenger secret (docs/messenger.md, docs/reference/messenger-webhook.md#multiple-pages):
- `PAGE_TOKENS`: a JSON object, Page or Instagram account id -> access token (several accounts);
- `PAGE_TOKEN` (+ optional `PAGE_ID`): one Page, as older secrets hold it.
With `PAGE_TOKENS` or `PAGE_ID` the set of accounts is closed: an event for any other account is
ignored (answered 200, counted). A lone `PAGE_TOKEN` without `PAGE_ID` serves whichever Page writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class AccountsError(ValueError):
    """The secret's account keys are malformed; `reason` is a log-safe code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MetaAccounts:
    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)
    default_token: str | None = field(default=None, repr=False)
    default_account: str | None = None

    @classmethod
    def from_secret(cls, document: Mapping[str, Any]) -> MetaAccounts:
        raw = document.get("PAGE_TOKENS")
        if isinstance(raw, str) and raw.strip().startswith("{"):
            import json

            try:
                raw = json.loads(raw)  # stored as a JSON string inside the JSON secret
            except ValueError:
                raise AccountsError("page_tokens_not_json") from None
        tokens: dict[str, str] = {}
        if raw is not None:
            if not isinstance(raw, dict):
                raise AccountsError("page_tokens_not_an_object")
            for account, token in raw.items():
                if not isinstance(account, str) or not account or not isinstance(token, str) or not token:
                    raise AccountsError("page_tokens_entry_invalid")
                tokens[account] = token
        single = document.get("PAGE_TOKEN")
        single = single if isinstance(single, str) and single else None
        page_id = document.get("PAGE_ID")
        page_id = (
            str(page_id) if isinstance(page_id, (str, int)) and not isinstance(page_id, bool) and page_id else None
        )
        if single and page_id:
            tokens.setdefault(page_id, single)
        if not tokens and not single:
            raise AccountsError("page_token_missing")
        return cls(tokens=tokens, default_token=None if tokens else single, default_account=page_id)

    @property
    def closed(self) -> bool:
        """True when only the listed accounts are served."""
        return bool(self.tokens)

    def serves(self, account_id: str | None) -> bool:
        if not self.closed:
            return True
        return account_id is not None and account_id in self.tokens

    def token_for(self, account_id: str | None) -> str | None:
        if account_id is not None and account_id in self.tokens:
            return self.tokens[account_id]
        if self.default_token is not None:
            return self.default_token
        if len(self.tokens) == 1:  # sessions recorded before accounts were kept: the only Page there is
            return next(iter(self.tokens.values()))
        return None
