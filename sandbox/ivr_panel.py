"""The IVR panel: digits encrypted as Connect's *Store customer input* does, then `ivr_decryptor`.

The encryption is the IVR module's own Connect-format `encrypt_like_connect` (public key + key id,
suite 0x0378, frame 4096); the decryption is the real entry point, invoked with the contact-flow
event a Connect flow sends (REFERENCE.md §7.5). The panel shows what the flow reads as `$.External`.
"""

from __future__ import annotations

import time
import uuid

from sandbox.lambdas import LambdaInvoker
from sandbox.resources import ACCOUNT_ID, REGION, IvrKey

FUNCTION = "ivr_decryptor"
MAX_DIGITS = 64


def contact_flow_event(instance_id: str, ciphertext: str) -> dict:
    contact_id = str(uuid.uuid4())
    return {"Name": "ContactFlowEvent", "Details": {
        "ContactData": {
            "Attributes": {}, "Channel": "VOICE", "ContactId": contact_id, "InitialContactId": contact_id,
            "PreviousContactId": contact_id, "InitiationMethod": "INBOUND",
            "InstanceARN": f"arn:aws:connect:{REGION}:{ACCOUNT_ID}:instance/{instance_id}",
            "CustomerEndpoint": {"Address": "+15555550100", "Type": "TELEPHONE_NUMBER"},
            "SystemEndpoint": {"Address": "+15555550199", "Type": "TELEPHONE_NUMBER"},
        },
        "Parameters": {"EncryptedValue": ciphertext},
    }}


class IvrPanel:
    def __init__(self, invoker: LambdaInvoker, key: IvrKey, instance_id: str):
        self._invoker = invoker
        self._key = key
        self._instance_id = instance_id

    @staticmethod
    def available() -> bool:
        try:
            from chalicelib.ivr.esdk import encrypt_like_connect  # noqa: F401
        except ImportError:
            return False
        return True

    def run(self, digits: str) -> dict:
        # What ivr_decryptor accepts as a value (1-64 ASCII digits; anything else decrypts to INVALID_VALUE).
        if not digits or len(digits) > MAX_DIGITS or not all(ch in "0123456789" for ch in digits):
            return {"error": f"enter 1-{MAX_DIGITS} digits (0-9): what ivr_decryptor accepts"}
        from chalicelib.ivr.esdk import encrypt_like_connect

        ciphertext = encrypt_like_connect(digits, self._key.public_pem, self._key.key_id)
        started = time.perf_counter()
        outcome = self._invoker.invoke(FUNCTION, contact_flow_event(self._instance_id, ciphertext), timeout=8)
        elapsed_ms = (time.perf_counter() - started) * 1000
        return {
            "key_id": self._key.key_id,
            "ciphertext_chars": len(ciphertext),
            "ciphertext_head": ciphertext[:16],
            "external": outcome.result if outcome.ok else None,
            "function_error": outcome.error,
            "elapsed_ms": round(elapsed_ms, 1),
        }
