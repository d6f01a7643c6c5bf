"""The three ways a messaging dependency can fail, as the webhook and the stream handler must answer them.

- `TransientError`: throttling, 5xx, timeouts, a lease held by a concurrent attempt. The caller answers so
  that the sender retries (webhook: 5xx; SNS/Lambda: raise), and the retry must duplicate nothing.
- `PermanentError`: retrying this message cannot help (unsupported content, a chat Connect refuses). The
  caller logs the reason code and acknowledges.
- `ConfigurationError`: the deployment is wrong (secret missing, table missing, no IAM permission, unknown
  contact flow). Every message would fail the same way, so the caller does NOT acknowledge: Meta keeps
  retrying while someone fixes it, and nothing is lost.

Each carries only a `reason` code (and optionally the AWS error code or HTTP status): never request data,
text or tokens, so `str(exc)` is always safe to log. `aws_failure` and `check_http_status` are the shared
rules for AWS calls on deployment resources and for plain HTTP calls; Connect's own rules are in
connect_chat.classify.
"""

from __future__ import annotations

from chalicelib import aws


class MessagingError(Exception):
    def __init__(self, reason: str, code: str | None = None):
        super().__init__(reason if code is None else f"{reason}:{code}")
        self.reason = reason
        self.code = code


class TransientError(MessagingError):
    """Worth retrying later; nothing was half-done that a retry would duplicate."""


class PermanentError(MessagingError):
    """Retrying this message cannot help; acknowledge and log the reason."""


class ConfigurationError(MessagingError):
    """The deployment is broken for every message; do not acknowledge, alert."""


def aws_failure(exc: BaseException, unavailable: str, unusable: str) -> TransientError | ConfigurationError:
    """A failed AWS call on a resource the deployment provides (table, secret): throttling, 5xx and
    timeouts are `unavailable` and retried; anything else (missing resource, no permission, KMS key
    disabled) is the deployment's fault, `unusable`. Both carry the AWS error code."""
    code = aws.error_code(exc)
    if aws.is_transient(exc):
        return TransientError(unavailable, code)
    return ConfigurationError(unusable, code)


def check_http_status(status: int, unavailable: str, refused: str) -> None:
    """A plain HTTP call's answer: 5xx and 429 are `unavailable` and retried; any other status from 300 up
    (an expired or mis-signed URL) is `refused`, as the same request cannot succeed. Both carry the status."""
    if status >= 500 or status == 429:
        raise TransientError(unavailable, str(status))
    if status >= 300:
        raise PermanentError(refused, str(status))
