"""Amazon Connect MESSAGE_PROCESSOR: Connect Guard redaction on every chat message of every channel.

    event.py          typed, never-raising view of the Lambda event
    response.py       the three answers Connect understands
    projection.py     what the redactor reads of a content, and masks cut around what it must not touch
    plain.py          text/plain
    markdown.py       text/markdown: masks never land on syntax
    json_values.py    application/json and interactive messages: string values only, same keys and shape
    content_types.py  which of those a content type gets
    context_store.py  split-number context per contact in SESSIONS_TABLE (conditional writes, TTL)
    processor.py      the use case: one event -> one answer, never an exception
    wiring.py         the use case built from settings once per container

Contract: docs/reference/message-processor.md.
"""
