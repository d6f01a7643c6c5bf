"""Messaging: Facebook Messenger <-> Amazon Connect chat, grouped by the system on the other side.

endpoint.py          the webhook as HTTP: verification (GET) and events (POST) -> inbound
inbound.py           use case: customer message -> redacted -> the agent's Connect chat, exactly once
outbound.py          use case: Connect chat stream -> the customer on Messenger
attachment_relay.py  use case: a customer's file -> a real Connect chat attachment (scanned by Connect)
once.py              exactly once per key: claim, work, complete or release (the dedupe log)
rendering.py         a Connect message as Messenger text: markdown flattened, templates as quick replies
ports.py             the Protocols the use cases depend on
errors.py            transient / permanent / configuration failures
http.py              the pooled, retrying HTTP session      text_units.py  UTF-16 lengths
wiring.py            builds the adapters, then the use cases, once per container
meta/                Meta: webhook contract and events, Graph Send API, secrets, CDN downloads
connect/             Amazon Connect: chat gateway, participant attachments, stream items, upload types
store/               DynamoDB: sessions, the dedupe log, the table helper
"""
