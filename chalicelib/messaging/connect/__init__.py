"""Amazon Connect's side of a chat.

chat.py          chat gateway: start a chat, stream it, connect the customer, send text; error classes
attachments.py   participant attachments: upload (start, PUT, complete) and signed download URLs
stream_items.py  typed view of the chat streaming SNS records
upload_type.py   what a customer's file is uploaded as (extension, MIME), from its bytes
"""
