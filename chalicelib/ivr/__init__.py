"""Secure IVR decryptor: digits a contact flow encrypted with *Store customer input*.

request.py    typed view of the contact-flow event: where the ciphertext is
envelope.py   the pre-check before any RSA work: length, strict base64, Connect's header shape
keys.py       private keys from SSM by Connect key id: cached, parsed once, several at once
esdk.py       the Encryption SDK set up as Connect uses it (imported lazily): decrypt, and encrypt
decryptor.py  the use case: request -> result map, never an exception
result.py     the flat `$.External` map and its reason codes
wiring.py     builds the decryptor over its SSM key store, once per container
cli.py        operator commands: keygen, put-key, encrypt, check (not on the Lambda path)
"""
