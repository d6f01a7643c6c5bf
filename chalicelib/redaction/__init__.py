"""PII redaction: detect, merge, mask, and keep a conversation's context between messages.

redactor.py      the redactor every path uses (local, Comprehend or both); `build_redactor`
detectors.py     local detectors: a pattern, a validator, context words each
hints.py         which of the detectors' hint words a text holds
checksums.py     validators: Luhn (the project's one), issuer ranges, stdnum checksums
comprehend.py    Amazon Comprehend DetectPiiEntities adapter
conversation.py  per-conversation context (split card numbers across messages)
languages.py     the words detectors read in Connect's six chat languages (en, es, fr, pt, de, it)
normalize.py     text as the detectors read it (digits, spoken numbers), mapped back to the original
widening.py      a mask grown over what a detection leaves visible
masking.py       detections merged and masked
spans.py         which characters some span covers, in O(span length)
"""
