"""Meta's side of Messenger.

webhook.py   the webhook contract: verification, `X-Hub-Signature-256`, typed events from a POST body
send_api.py  Graph Send API client: text, quick replies, attachments by URL, typing; the reply window
secrets.py   the app secret, page token and verify token from Secrets Manager, cached
cdn.py       a customer's attachment downloaded from Meta's CDN: streamed, capped, spooled
"""
