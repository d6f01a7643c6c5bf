"""Connect private keys by Connect key id: fetched from SSM together, parsed once each, cached.

Storage (README, "Secure IVR decryptor"): one SecureString per key under `IVR_KEYS_PATH`, named by
the Connect key id, holding the PEM private key. Rotation is adding a parameter: Connect allows two
active keys and each ciphertext names its key, so every key under the path works at once. The AWS
blog's two parameters (`CONNECT_INPUT_DECRYPTION_KEY` + `CONNECT_INPUT_KEY_ID`) are read too when
configured.

Caching, per container:
- the key set is fetched at most once per `IVR_KEY_CACHE_SECONDS`;
- a key id not in the set triggers one refresh (at most once per `IVR_KEY_REFRESH_MIN_SECONDS`, so
  made-up ids cannot flood SSM), then `UnknownKey`;
- each PEM is parsed and validated once (~250 ms for RSA-4096) and only when first used: a refresh
  that returns the same PEM reuses the parsed key;
- if a refresh fails while keys are cached, the cached keys keep working and the refresh is retried
  after `IVR_KEY_REFRESH_MIN_SECONDS`; with nothing cached the failure is `KeyUnavailable`.

The key set's caching is chalicelib/cache.py (shared with the Messenger secrets); parsed keys are kept here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chalicelib import aws, logs
from chalicelib.cache import RefreshingCache

if TYPE_CHECKING:
    from chalicelib.settings import IvrSettings

_log = logs.get_logger("ivr.keys")

KeyFetcher = Callable[[], Mapping[str, bytes]]  # () -> {Connect key id: PEM private key}
KeyParser = Callable[[bytes], Any]  # PEM -> private key object; raises on an unusable key


class UnknownKey(LookupError):
    """The ciphertext names a key id that is not configured (after one refresh)."""


class KeyUnavailable(RuntimeError):
    """The keys could not be read, or the named key is not usable. `code` is log-safe."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class KeyStore:
    """Private keys by Connect key id, with the caching rules in the module docstring. Thread safe."""

    def __init__(
        self,
        fetch: KeyFetcher,
        *,
        ttl_seconds: float,
        refresh_min_seconds: float,
        parse: KeyParser | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._fetch = fetch
        self._parse = parse or load_rsa_private_key
        self._lock = threading.Lock()
        self._pems = RefreshingCache(
            self._load,
            ttl_seconds=ttl_seconds,
            min_refresh_seconds=refresh_min_seconds,
            keep_on=(KeyUnavailable,),
            on_kept=_log_kept,
            clock=clock,
        )
        self._parsed: dict[str, tuple[bytes, Any]] = {}

    def private_key(self, key_id: str) -> Any:
        """The parsed private key for `key_id`. Raises `UnknownKey` or `KeyUnavailable`."""
        with self._lock:
            pems = self._pems.get()
            if key_id not in pems:
                pems = self._pems.refresh() or pems  # perhaps a key added since: one refresh, then a clear error
            pem = pems.get(key_id)
            if pem is None:
                raise UnknownKey(key_id)
            return self._parsed_key(key_id, pem)

    def _load(self) -> dict[str, bytes]:
        pems = dict(self._fetch())
        self._parsed = {key_id: entry for key_id, entry in self._parsed.items() if pems.get(key_id) == entry[0]}
        logs.log_event(_log, "ivr_keys_loaded", key_ids=sorted(pems), count=len(pems))
        return pems

    def _parsed_key(self, key_id: str, pem: bytes) -> Any:
        entry = self._parsed.get(key_id)
        if entry is not None and entry[0] == pem:
            return entry[1]
        timer = logs.Timer()
        try:
            key = self._parse(pem)
        except Exception as exc:  # a bad PEM must not look like a decryption failure, nor leak its text
            logs.log_error(_log, "ivr_key_rejected", exc, key_id=key_id)
            raise KeyUnavailable("KeyRejected") from None
        self._parsed[key_id] = (pem, key)
        logs.log_event(_log, "ivr_key_parsed", key_id=key_id, elapsed_ms=timer.ms)
        return key


def _log_kept(error: Exception, pems: dict[str, bytes]) -> None:
    code = error.code if isinstance(error, KeyUnavailable) else type(error).__name__
    logs.log_event(_log, "ivr_keys_refresh_failed", logging.WARNING, error=code, cached_keys=len(pems))


def load_rsa_private_key(pem: bytes, full_validation: bool = True) -> Any:
    """Parse an unencrypted PEM RSA private key of at least 2048 bits, and check it.

    Full validation is OpenSSL's: primality proofs of p and q plus consistency, ~250 ms for RSA-4096
    (about half of a cold start; ~3.5 s on a 128 MB Lambda). `full_validation=False` keeps every
    check that guards the results (n = p*q, e*d = 1 mod p-1 and q-1, the CRT values) in Python, in
    microseconds, and skips only the primality proofs: for keys already validated when stored
    (`cli put-key` does the full check). A wrong key then still fails closed, as DECRYPT_FAILED.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=not full_validation)
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise ValueError("not an RSA private key of at least 2048 bits")
    if not full_validation and not _consistent(key):
        raise ValueError("inconsistent RSA private key")
    return key


def _consistent(key: Any) -> bool:
    numbers = key.private_numbers()
    p, q, d = numbers.p, numbers.q, numbers.d
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    return (
        1 < p < n
        and 1 < q < n
        and p * q == n
        and (e * d - 1) % (p - 1) == 0
        and (e * d - 1) % (q - 1) == 0
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and (numbers.iqmp * q) % p == 1
    )


def ssm_key_fetcher(config: IvrSettings) -> KeyFetcher:
    """Read every key under the path (and the blog's two parameters when configured) from SSM."""
    path = config.keys_path.rstrip("/") or "/"

    def fetch() -> dict[str, bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            ssm = aws.client("ssm")
            keys: dict[str, bytes] = {}
            parameters = aws.page_items(
                ssm.get_parameters_by_path, "Parameters", Path=path, Recursive=False, WithDecryption=True
            )
            for parameter in parameters:
                keys[parameter["Name"].rsplit("/", 1)[-1]] = parameter["Value"].encode("utf-8")
            if config.legacy_key_parameter and config.legacy_key_id_parameter:
                keys.update(_legacy_key(ssm, config.legacy_key_parameter, config.legacy_key_id_parameter))
        except (BotoCoreError, ClientError) as exc:
            logs.log_error(_log, "ivr_keys_unavailable", exc)
            raise KeyUnavailable(aws.error_code(exc)) from None
        return keys

    return fetch


def _legacy_key(ssm: Any, key_parameter: str, key_id_parameter: str) -> dict[str, bytes]:
    """The AWS blog's convention: the PEM in one parameter, the Connect key id in another."""
    response = ssm.get_parameters(Names=[key_parameter, key_id_parameter], WithDecryption=True)
    values = {parameter["Name"]: parameter["Value"] for parameter in response["Parameters"]}
    if key_parameter not in values or key_id_parameter not in values:
        logs.log_event(
            _log, "ivr_legacy_key_missing", logging.WARNING, missing=len(response.get("InvalidParameters", []))
        )
        return {}
    return {values[key_id_parameter].strip(): values[key_parameter].encode("utf-8")}
