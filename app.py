"""Connect Guard: the four entry points. Each parses its trigger, calls one use case, maps errors.

Nothing heavy happens at import: every Lambda of this app imports this whole module on cold start.
"""

from chalice import Chalice

from chalicelib import logs, settings

app = Chalice(app_name="connect-guard")
# Chalice's own logger would print free text; ours writes sanitised JSON (chalicelib/logs.py).
app.log.propagate = True


def _settings() -> settings.Settings:
    current = settings.load()
    logs.configure(current.log_level)
    return current


# ----------------------------------------------------------------------------------------- api_handler


@app.route("/health", methods=["GET"])
def health():
    return {"status": "ok"}


# <entry:webhook> Messenger webhook routes (inbound issue) </entry:webhook>


# ----------------------------------------------------------------------------------------- connect_stream_handler

# <entry:stream> connect_stream_handler (outbound issue) </entry:stream>


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
    deadline = Deadline.for_invocation(context, config.time_budget_ms, config.deadline_margin_ms)
    return scanner.build(config).decide(event, deadline).response()


# </entry:scanner>


# ----------------------------------------------------------------------------------------- ivr_decryptor

# <entry:ivr> ivr_decryptor (IVR issue) </entry:ivr>
