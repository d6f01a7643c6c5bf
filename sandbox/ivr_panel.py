"""The IVR panel: a caller keys digits into `infra/flows/secure-ivr.json`, run block by block.

The flow file itself is rendered for the sandbox (its key id and certificate, the local decryptor) and run by
`sandbox/flow_runner.py`: *Store customer input* encrypts the digits with the certificate's public key as
Connect does (the IVR module's `encrypt_like_connect`: suite 0x0378, frame 4096), the *AWS Lambda function*
block invokes the real `ivr_decryptor` entry point with the contact-flow event Connect sends
(docs/reference/ivr-encryption.md), and the *Check contact attributes* blocks branch on what it returns.
The panel shows each block with the branch taken, the logging and recording state at that moment, and
whether anything secret reached the emulated flow log.

Several entries separated by commas are keyed in turn (the flow asks again once after an invalid number).
"""

from __future__ import annotations

import time
from typing import Any

from infra.flow_files import load, render
from sandbox.flow_runner import FlowRunError, run_secure_ivr, secrets_in
from sandbox.lambdas import Invoker
from sandbox.resources import ACCOUNT_ID, REGION, IvrKey

FUNCTION = "ivr_decryptor"
MAX_DIGITS = 64
MAX_ENTRIES = 3


def instance_arn(instance_id: str) -> str:
    return f"arn:aws:connect:{REGION}:{ACCOUNT_ID}:instance/{instance_id}"


class IvrPanel:
    def __init__(self, invoker: Invoker, key: IvrKey, instance_id: str):
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

    def flow(self) -> dict[str, Any]:
        """secure-ivr.json as the sandbox deploys it."""
        return render(
            load("secure-ivr"),
            {
                "IvrDecryptorArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{FUNCTION}",
                "IvrEncryptionKeyId": self._key.key_id,
                "IvrCertificate": (self._key.certificate_pem or self._key.public_pem).decode(),
                "QueueArn": f"{instance_arn(self._instance_id)}/queue/basic",
            },
            {},
        )

    def run(self, digits: str) -> dict[str, Any]:
        entries = [entry.strip() for entry in digits.split(",")]
        if not 0 < len(entries) <= MAX_ENTRIES or not all(
            0 < len(e) <= MAX_DIGITS and all(ch in "0123456789*#" for ch in e) for e in entries
        ):
            return {
                "error": f"enter 1-{MAX_DIGITS} keypad characters (0-9, * and #), "
                f"up to {MAX_ENTRIES} entries separated by commas"
            }
        from chalicelib.ivr.esdk import encrypt_like_connect

        invocations: list[dict[str, Any]] = []

        def encrypt(keyed: str, key_id: str, certificate: str) -> str:
            return encrypt_like_connect(keyed, certificate.encode(), key_id)

        def invoke(arn: str, event: dict[str, Any]) -> dict[str, str] | None:
            started = time.perf_counter()
            outcome = self._invoker.invoke(arn.rsplit(":", 1)[-1], event, timeout=8)
            invocations.append({"ms": round((time.perf_counter() - started) * 1000, 1), "error": outcome.error})
            return outcome.result if outcome.ok and isinstance(outcome.result, dict) else None

        try:
            flow_run = run_secure_ivr(self.flow(), entries, encrypt, invoke, instance_arn(self._instance_id))
        except FlowRunError as exc:
            return {"error": f"the flow cannot run in the sandbox: {exc}"}
        ciphertext = flow_run.ciphertexts[-1] if flow_run.ciphertexts else ""
        return {
            "key_id": self._key.key_id,
            "ciphertext_chars": len(ciphertext),
            "ciphertext_head": ciphertext[:16],
            "external": flow_run.external or None,
            "function_error": next((i["error"] for i in reversed(invocations) if i["error"]), None),
            "elapsed_ms": invocations[-1]["ms"] if invocations else 0.0,
            "flow": {
                **flow_run.as_dict(),
                "flow_log_clean": not flow_run.flow_log_contains(secrets_in(flow_run, entries)),
            },
        }
