"""Composition: the IVR decryptor over its SSM key store, built from settings once per container (so the
parsed keys stay cached across invocations). Imports the decryptor when it first builds one."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.ivr.decryptor import Decryptor
    from chalicelib.settings import IvrSettings


@lru_cache(maxsize=4)
def container_decryptor(config: IvrSettings) -> Decryptor:
    """The decryptor for these settings, built once per container so its keys stay cached."""
    from chalicelib.ivr.decryptor import Decryptor
    from chalicelib.ivr.keys import KeyStore, load_rsa_private_key, ssm_key_fetcher

    full_validation = config.key_validation == "full"
    keys = KeyStore(
        ssm_key_fetcher(config),
        ttl_seconds=config.key_cache_seconds,
        refresh_min_seconds=config.key_refresh_min_seconds,
        parse=lambda pem: load_rsa_private_key(pem, full_validation),
    )
    return Decryptor(keys, max_ciphertext_chars=config.max_ciphertext_chars, return_value=config.return_value)


def reset() -> None:
    """Forget the container's decryptor and its cached keys (tests)."""
    container_decryptor.cache_clear()
