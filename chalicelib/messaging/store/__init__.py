"""DynamoDB: one sessions table (`SESSIONS_TABLE`) for the messaging paths.

sessions.py  customer <-> contact, tokens, expiry; concurrent starts resolved by conditional writes
dedupe.py    the dedupe log: at-most-once per message id, under a lease
table.py     the few table calls, with plain-Python items and domain errors
"""
