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

# <entry:scanner> attachment_scanner (scanner issue) </entry:scanner>


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
        logs.log_event(logs.get_logger("ivr"), "ivr_misconfigured", logging.ERROR, setting=str(exc).split()[0])
        return failure(Reason.MISCONFIGURED)
    return decryptor.handle_event(event, config)


# </entry:ivr>
