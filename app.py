"""Connect Guard: the four entry points. Each parses its trigger, calls one use case, maps errors.

Nothing heavy happens at import: every Lambda of this app imports this whole module on cold start. The
wiring modules imported here build their use cases on first call; the scanner's and the decryptor's own
modules (~30 ms and ~10 ms of imports after boto3 and this module, CPU time) load inside their entry point,
so only their Lambda pays for them.
"""

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from chalice import Chalice, Response
from chalice.app import Request

from chalicelib import logs, settings
from chalicelib.ivr import wiring as ivr_wiring
from chalicelib.messaging import wiring as messaging_wiring
from chalicelib.version import VERSION

if TYPE_CHECKING:
    from chalicelib.messaging.endpoint import MessengerWebhook, Reply

app = Chalice(app_name="connect-guard")
# Plain `chalice local` lacks settings or emulators: say so in one line instead of a bare 500 (docs/local.md).
if _local_problem := settings.chalice_local_problem():
    print(_local_problem, file=sys.stderr, flush=True)
# Chalice's own handler on app.log prints free text (an escaped exception's message and traceback); ours
# writes sanitised JSON (chalicelib/logs.py).
logs.take_over(app.log)

_log = logs.get_logger("app")
_TEXT: dict[str, str | list[str]] = {"Content-Type": "text/plain"}
T = TypeVar("T")
_started = False


def _settings() -> settings.Settings:
    current = settings.load()
    logs.configure(current.log_level)
    _log_start_once()
    return current


def _log_start_once() -> None:
    """One `function_started` line per container, with the version, at the first invocation (not at import)."""
    global _started
    if not _started:
        _started = True
        logs.log_event(_log, "function_started", version=VERSION)


def _misconfigured(trigger: str, exc: settings.SettingsError, answer: T) -> T:
    """`answer`, this trigger's documented reply to a missing or malformed setting, after one log line that
    names the variable (every message starts with it) and never its value."""
    logs.log_event(_log, "settings_invalid", logging.ERROR, trigger=trigger, variable=exc.variable)
    return answer


# ----------------------------------------------------------------------------------------- api_handler


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "version": VERSION}


@app.route("/webhook/messenger", methods=["GET"])
def messenger_verify() -> Response:
    """Meta's subscription check: the challenge back as text/plain when mode and verify token match."""
    request = _request()
    return _messenger(lambda webhook: webhook.verify(request.query_params))


# Meta posts `application/json` (Chalice also accepts it with a charset); anything else gets 415.
@app.route("/webhook/messenger", methods=["POST"], content_types=["application/json"])
def messenger_receive() -> Response:
    """Customer events: signature over the raw body first, then each event to the inbound use case."""
    request = _request()
    body = cast(bytes, request.raw_body)  # bytes at run time; Chalice's annotation also allows str
    return _messenger(lambda webhook: webhook.receive(body, request.headers.get("x-hub-signature-256")))


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it before it calls a route
    return request


def _messenger(call: "Callable[[MessengerWebhook], Reply]") -> Response:
    try:
        webhook = messaging_wiring.messenger_webhook(_settings())
    except settings.SettingsError as exc:
        return _misconfigured("api_handler", exc, Response(body="misconfigured", status_code=500, headers=_TEXT))
    reply = call(webhook)
    return Response(body=reply.body, status_code=reply.status, headers=_TEXT)


# ----------------------------------------------------------------------------------------- connect_stream_handler


@app.on_sns_message(topic=settings.stream_topic_for_subscription())
def connect_stream_handler(event: Any) -> None:
    """Connect chat streaming -> the customer on Messenger. Every record of the event is handled (Chalice
    maps only Records[0]); raising after all of them makes Lambda retry the event, and the dedupe log makes
    that retry skip what was already delivered."""
    try:
        relay = messaging_wiring.outbound_relay(_settings())
    except settings.SettingsError as exc:
        _misconfigured("connect_stream_handler", exc, None)
        raise  # nothing acknowledged: Lambda retries the event
    relay.handle_event(event.to_dict()).raise_for_retry()


# ----------------------------------------------------------------------------------------- attachment_scanner


@app.lambda_function(name="attachment_scanner")
def attachment_scanner(event: Any, context: Any) -> dict[str, str]:
    """Amazon Connect FILE_SCANNER: {"Status": "APPROVED" | "REJECTED"}, REJECTED on any failure."""
    from chalicelib.scanning import scanner
    from chalicelib.scanning import wiring as scanning_wiring
    from chalicelib.scanning.deadline import Deadline

    try:
        config = _settings().scanner
    except settings.SettingsError as exc:
        return _misconfigured("attachment_scanner", exc, scanner.reject_unconfigured(exc))  # REJECTED
    try:
        deadline = Deadline.for_invocation(context, config.time_budget_ms, config.deadline_margin_ms)
        return scanning_wiring.build(config).decide(event, deadline).response()
    except Exception as exc:  # setup itself failed: still a decision, never an escaped exception
        return scanner.reject_internal(exc)


# ----------------------------------------------------------------------------------------- ivr_decryptor


@app.lambda_function(name="ivr_decryptor")
def ivr_decryptor(event: Any, context: Any) -> dict[str, str]:
    """Decrypt digits a contact flow encrypted with *Store customer input*; the flow reads `$.External`."""
    from chalicelib import coldstart

    # The first call loads boto3 and the Encryption SDK: without the collector rescanning them (chalicelib/coldstart.py)
    with coldstart.first_invocation_without_gc():
        from chalicelib.ivr import decryptor
        from chalicelib.ivr.result import Reason, failure

        try:
            config = _settings().ivr
        except settings.SettingsError as exc:
            return _misconfigured("ivr_decryptor", exc, failure(Reason.MISCONFIGURED))  # a code, not the message
        return decryptor.handle_event(event, lambda: ivr_wiring.container_decryptor(config))


@app.lambda_function(name="message_processor")
def message_processor(event: Any, context: Any) -> dict[str, Any]:
    """Amazon Connect MESSAGE_PROCESSOR: every chat message, both directions, redacted before delivery.
    Always an answer (PROCESSED | APPROVED | REJECTED), never an exception: docs/message-processor.md."""
    from chalicelib.processor import processor, wiring

    try:
        current = _settings()
        use_case = wiring.message_processor(current.processor, current.redaction)
    except Exception as exc:  # invalid settings or setup: the policy is unknown, so fail closed
        return processor.unconfigured(exc)
    return use_case.process(event)
