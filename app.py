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
        logs.log_event(logs.get_logger("app.stream"), "settings_invalid", logging.ERROR, variable=str(exc).split(" ", 1)[0])
        raise
    result = relay.handle_event(event.to_dict())
    if result.retry:
        raise outbound.RetryLater(failed=result.failed, total=len(result.outcomes))
# </entry:stream>


# ----------------------------------------------------------------------------------------- attachment_scanner

# <entry:scanner> attachment_scanner (scanner issue) </entry:scanner>


# ----------------------------------------------------------------------------------------- ivr_decryptor

# <entry:ivr> ivr_decryptor (IVR issue) </entry:ivr>
