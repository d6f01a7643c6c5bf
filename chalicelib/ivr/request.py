"""Typed view of the contact-flow Lambda event (docs/reference/ivr-encryption.md).

The ciphertext should arrive as a function input parameter (`Details.Parameters.<name>` set to
`$.StoredCustomerInput`): that keeps it out of contact attributes and contact records. The AWS blog's
flow copies it into a contact attribute instead, so that place is read last, for compatibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where the ciphertext is looked for, in order.
PARAMETER_NAMES = ("EncryptedValue", "EncryptedInput", "EncryptedCreditCard")
ATTRIBUTE_NAMES = ("EncryptedCreditCard",)


@dataclass(frozen=True)
class IvrRequest:
    ciphertext: str | None
    contact_id: str | None

    @classmethod
    def from_event(cls, event: Any) -> IvrRequest:
        """Never raises: any shape that is not the documented one simply carries no ciphertext."""
        details = _mapping(_mapping(event).get("Details"))
        parameters = _mapping(details.get("Parameters"))
        contact = _mapping(details.get("ContactData"))
        attributes = _mapping(contact.get("Attributes"))
        ciphertext = _first_text(parameters, PARAMETER_NAMES) or _first_text(attributes, ATTRIBUTE_NAMES)
        contact_id = contact.get("ContactId")
        return cls(ciphertext=ciphertext, contact_id=contact_id if isinstance(contact_id, str) else None)


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _first_text(source: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = source.get(name)
        if isinstance(value, str) and value != "":
            return value
    return None
