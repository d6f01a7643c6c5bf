"""Where a Meta customer is: the Page or Instagram account they wrote to, and who they are there.

Sessions key a customer by one string, `<account id>/<sender>`, where the sender is the PSID / IGSID or
`user_ref:<ref>` (a checkbox or chat-plugin guest). Page-scoped ids only mean something on their Page,
and the reply must go out with that Page's token: both come from this one string. Sessions recorded
before accounts were kept hold a bare PSID; they parse with no account (the deployment's only token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.messaging.meta.webhook import USER_REF_PREFIX, Origin


@dataclass(frozen=True)
class CustomerAddress:
    account_id: str | None
    sender: str

    @classmethod
    def of(cls, origin: Origin) -> CustomerAddress:
        return cls(origin.account_id or None, origin.sender_id)

    @classmethod
    def parse(cls, customer_id: str) -> CustomerAddress:
        account, separator, sender = customer_id.partition("/")
        return cls(account, sender) if separator and account and sender else cls(None, customer_id)

    @property
    def customer_id(self) -> str:
        return f"{self.account_id}/{self.sender}" if self.account_id else self.sender

    def recipient(self) -> dict[str, Any]:
        """The Send API `recipient` for this customer."""
        if self.sender.startswith(USER_REF_PREFIX):
            return {"user_ref": self.sender[len(USER_REF_PREFIX) :]}
        return {"id": self.sender}
