"""An exception that escapes a route reaches the log as one sanitised JSON line: never its message, never a
traceback (Chalice's own handler on `app.log` would print both as free text)."""

from __future__ import annotations

import json

from chalicelib.messaging import wiring

CANARY = "4111 1111 1111 1111 canary@example.com"


def test_an_escaped_exception_prints_neither_its_message_nor_a_traceback(chalice_client, monkeypatch, capfd):
    def broken(settings):
        raise RuntimeError(CANARY)

    monkeypatch.setattr(wiring, "messenger_webhook", broken)
    capfd.readouterr()
    response = chalice_client.http.get("/webhook/messenger?hub.mode=subscribe")
    assert response.status_code == 500
    out, err = capfd.readouterr()
    printed = out + err
    assert CANARY not in printed and "4111" not in printed
    assert "Traceback" not in printed
    lines = [json.loads(line) for line in printed.splitlines() if line.strip()]
    assert lines, "the failure was not logged at all"
    escaped = [line for line in lines if line.get("error") == "RuntimeError"]
    assert escaped and all(line["event"] == "library_log" for line in escaped)


def test_every_handler_of_the_app_log_is_the_sanitising_one():
    from app import app
    from chalicelib import logs

    handlers = [h for h in app.log.handlers if not type(h).__module__.startswith("_pytest")]  # pytest's capture
    assert handlers, "Chalice's records would fall through to whatever the Lambda runtime installed"
    assert all(isinstance(handler.formatter, logs.JsonFormatter) for handler in handlers)
    assert not app.log.propagate  # one line per record, not a second one through the root logger
