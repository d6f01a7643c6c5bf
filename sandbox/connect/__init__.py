"""An emulator of the Amazon Connect chat APIs the app calls, speaking their real wire protocol.

`model.py` is the chat (contacts, participants, tokens, transcript, idempotency), `api.py` maps the
restJson operations of `connect` and `connectparticipant` onto it, `streaming.py` delivers every
item to `connect_stream_handler` as SNS would, and `attachments.py` holds uploaded files in S3 and
asks `attachment_scanner` about each, as Connect's FILE_SCANNER integration does.
"""
