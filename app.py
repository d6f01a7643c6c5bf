"""Connect Guard: the four entry points. Each parses its trigger, calls one use case, maps errors.

Nothing heavy happens at import: every Lambda of this app imports this whole module on cold start.
"""

import sys

from chalice import Chalice

from chalicelib import logs, settings
from chalicelib.version import VERSION

app = Chalice(app_name="connect-guard")
# Plain `chalice local` lacks settings or emulators: say so in one line instead of a bare 500 (docs/local.md).
if _local_problem := settings.chalice_local_problem():
    print(_local_problem, file=sys.stderr, flush=True)
# Chalice's own logger would print free text; ours writes sanitised JSON (chalicelib/logs.py).
app.log.propagate = True


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
        logs.log_event(logs.get_logger("app"), "function_started", version=VERSION)


# ----------------------------------------------------------------------------------------- api_handler


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok", "version": VERSION}


# <entry:webhook> Messenger webhook routes (inbound issue)
import logging  # noqa: E402

from chalice import Response  # noqa: E402

from chalicelib.messaging import wiring as messaging_wiring  # noqa: E402  (light: no boto3 at import)


@app.route("/webhook/messenger", methods=["GET"])
def messenger_verify():
    """Meta's subscription check: the challenge back as text/plain when mode and verify token match."""
    return _messenger(lambda webhook: webhook.verify(app.current_request.query_params))


# Meta posts `application/json` (Chalice also accepts it with a charset); anything else gets 415.
@app.route("/webhook/messenger", methods=["POST"], content_types=["application/json"])
def messenger_receive():
    """Customer events: signature over the raw body first, then each event to the inbound use case."""
    request = app.current_request
    return _messenger(lambda webhook: webhook.receive(request.raw_body, request.headers.get("x-hub-signature-256")))


def _messenger(call) -> Response:
    try:
        webhook = messaging_wiring.messenger_webhook(_settings())
    except settings.SettingsError as exc:
        # The message starts with the variable's name and never holds its value.
        logs.log_event(_webhook_log, "settings_invalid", logging.ERROR, variable=exc.variable)
        return Response(body="misconfigured", status_code=500, headers={"Content-Type": "text/plain"})
    reply = call(webhook)
    return Response(body=reply.body, status_code=reply.status, headers={"Content-Type": "text/plain"})


_webhook_log = logs.get_logger("app.webhook")
# </entry:webhook>


# ----------------------------------------------------------------------------------------- connect_stream_handler

# <entry:stream> connect_stream_handler (outbound issue)
@app.on_sns_message(topic=settings.stream_topic_for_subscription())
def connect_stream_handler(event):
    """Connect chat streaming -> the customer on Messenger. Every record of the event is handled (Chalice
    maps only Records[0]); raising after all of them makes Lambda retry the event, and the dedupe log makes
    that retry skip what was already delivered."""
    import logging

    from chalicelib.messaging import outbound, outbound_wiring

    try:
        relay = outbound_wiring.outbound_relay(_settings())
    except settings.SettingsError as exc:
        # Raised again so nothing is acknowledged; the message names the variable, never its value.
        logs.log_event(logs.get_logger("app.stream"), "settings_invalid", logging.ERROR, variable=exc.variable)
        raise
    result = relay.handle_event(event.to_dict())
    if result.retry:
        raise outbound.RetryLater(failed=result.failed, total=len(result.outcomes))
# </entry:stream>


# ----------------------------------------------------------------------------------------- attachment_scanner

# <entry:scanner> attachment_scanner (scanner issue)


@app.lambda_function(name="attachment_scanner")
def attachment_scanner(event, context):
    """Amazon Connect FILE_SCANNER: {"Status": "APPROVED" | "REJECTED"}, REJECTED on any failure."""
    from chalicelib.scanning import scanner
    from chalicelib.scanning.deadline import Deadline

    try:
        config = _settings().scanner
    except settings.SettingsError as exc:
        return scanner.reject_unconfigured(exc)
    try:
        deadline = Deadline.for_invocation(context, config.time_budget_ms, config.deadline_margin_ms)
        return scanner.build(config).decide(event, deadline).response()
    except Exception as exc:  # setup itself failed: still a decision, never an escaped exception
        return scanner.reject_internal(exc)


# </entry:scanner>


# ----------------------------------------------------------------------------------------- ivr_decryptor

# <entry:ivr>


@app.lambda_function(name="ivr_decryptor")
def ivr_decryptor(event, context):
    """Decrypt digits a contact flow encrypted with *Store customer input*; the flow reads `$.External`."""
    import logging

    from chalicelib.ivr import decryptor
    from chalicelib.ivr.result import Reason, failure

    try:
        config = _settings().ivr
    except settings.SettingsError as exc:
        # The message names the variable and never its value; the flow gets a code, not the message.
        logs.log_event(logs.get_logger("ivr"), "ivr_misconfigured", logging.ERROR, setting=exc.variable)
        return failure(Reason.MISCONFIGURED)
    return decryptor.handle_event(event, config)


# </entry:ivr>
