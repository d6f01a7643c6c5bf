"""KeyStore caching rules and the SSM fetcher, with a fake clock and fake parsing where RSA does not matter."""

from __future__ import annotations

import pytest

from chalicelib.ivr.keys import KeyStore, KeyUnavailable, UnknownKey, load_rsa_private_key, ssm_key_fetcher
from chalicelib.settings import IvrSettings, _Reader


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """A fake SSM: the keys it holds, how often it was read, and whether it is down."""

    def __init__(self, **keys: bytes):
        self.keys = dict(keys)
        self.reads = 0
        self.down = False

    def __call__(self):
        self.reads += 1
        if self.down:
            raise KeyUnavailable("ThrottlingException")
        return dict(self.keys)


class Parser:
    def __init__(self):
        self.parsed: list[bytes] = []

    def __call__(self, pem: bytes):
        if pem == b"junk":
            raise ValueError("Could not deserialize key data")
        self.parsed.append(pem)
        return ("key", pem)


@pytest.fixture
def clock():
    return Clock()


def store(source, clock, parser=None, ttl=900, refresh_min=10):
    return KeyStore(source, ttl_seconds=ttl, refresh_min_seconds=refresh_min, parse=parser or Parser(), clock=clock)


def test_keys_are_fetched_once_and_parsed_once_each(clock):
    source, parser = Source(a=b"pem-a", b=b"pem-b"), Parser()
    keys = store(source, clock, parser)

    assert keys.private_key("a") == ("key", b"pem-a")
    assert keys.private_key("b") == ("key", b"pem-b")
    assert keys.private_key("a") == ("key", b"pem-a")
    assert source.reads == 1 and parser.parsed == [b"pem-a", b"pem-b"]


def test_keys_are_parsed_lazily(clock):
    parser = Parser()
    store(Source(a=b"pem-a", b=b"pem-b"), clock, parser).private_key("a")
    assert parser.parsed == [b"pem-a"]  # the other rotation key costs nothing until a message names it


def test_ttl_refetches_but_does_not_reparse_an_unchanged_key(clock):
    source, parser = Source(a=b"pem-a"), Parser()
    keys = store(source, clock, parser)
    keys.private_key("a")

    clock.now += 901
    keys.private_key("a")

    assert source.reads == 2 and parser.parsed == [b"pem-a"]


def test_a_replaced_pem_is_parsed_again(clock):
    source, parser = Source(a=b"pem-a"), Parser()
    keys = store(source, clock, parser)
    keys.private_key("a")
    source.keys["a"] = b"pem-a2"

    clock.now += 901
    assert keys.private_key("a") == ("key", b"pem-a2")


def test_an_unknown_id_refreshes_once_then_fails(clock):
    source = Source(a=b"pem-a")
    keys = store(source, clock)
    keys.private_key("a")
    clock.now += 30

    with pytest.raises(UnknownKey):
        keys.private_key("zzz")
    assert source.reads == 2


def test_unknown_ids_cannot_flood_ssm(clock):
    source = Source(a=b"pem-a")
    keys = store(source, clock, refresh_min=10)
    keys.private_key("a")
    clock.now += 30
    for attempt in range(50):
        with pytest.raises(UnknownKey):
            keys.private_key(f"made-up-{attempt}")
    assert source.reads == 2  # one refresh, then no more until IVR_KEY_REFRESH_MIN_SECONDS passed

    clock.now += 10
    with pytest.raises(UnknownKey):
        keys.private_key("made-up")
    assert source.reads == 3


def test_a_new_key_is_found_by_the_refresh(clock):
    source = Source(a=b"pem-a")
    keys = store(source, clock)
    keys.private_key("a")
    source.keys["b"] = b"pem-b"
    clock.now += 10

    assert keys.private_key("b") == ("key", b"pem-b")


def test_a_removed_key_stops_working_after_the_ttl(clock):
    source = Source(a=b"pem-a", b=b"pem-b")
    keys = store(source, clock)
    keys.private_key("b")
    del source.keys["b"]

    clock.now += 901
    with pytest.raises(UnknownKey):
        keys.private_key("b")


def test_nothing_cached_and_ssm_down_is_unavailable(clock):
    source = Source(a=b"pem-a")
    source.down = True

    with pytest.raises(KeyUnavailable) as failure:
        store(source, clock).private_key("a")
    assert failure.value.code == "ThrottlingException"


def test_cached_keys_survive_an_ssm_outage_and_refresh_is_retried(clock, captured_logs):
    source = Source(a=b"pem-a")
    keys = store(source, clock)
    keys.private_key("a")
    source.down = True

    clock.now += 901
    assert keys.private_key("a") == ("key", b"pem-a")
    clock.now += 5
    assert keys.private_key("a") == ("key", b"pem-a")
    assert source.reads == 2  # not retried on every call

    clock.now += 5
    source.down = False
    keys.private_key("a")
    assert source.reads == 3
    assert [e["event"] for e in captured_logs.events()].count("ivr_keys_refresh_failed") == 1


def test_an_unusable_pem_is_unavailable_and_never_logged(clock, captured_logs):
    keys = store(Source(a=b"junk"), clock)

    with pytest.raises(KeyUnavailable) as failure:
        keys.private_key("a")
    assert failure.value.code == "KeyRejected"
    captured_logs.assert_absent("junk", "Could not deserialize")


def test_real_parser_accepts_the_connect_key(fixture_key):
    assert load_rsa_private_key(fixture_key.private_pem).key_size == 4096


@pytest.mark.parametrize("kind", ["public key", "ec key", "small rsa", "encrypted", "garbage"])
def test_real_parser_refuses_what_cannot_decrypt_connect_input(fixture_key, kind):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if kind == "public key":
        pem = fixture_key.public_pem
    elif kind == "ec key":
        pem = ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    elif kind == "small rsa":
        pem = rsa.generate_private_key(65537, 1024).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    elif kind == "encrypted":
        key = serialization.load_pem_private_key(fixture_key.private_pem, None)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pass"),
        )
    else:
        pem = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"

    with pytest.raises((ValueError, TypeError)):
        load_rsa_private_key(pem)


def ivr_settings(**env: str) -> IvrSettings:
    return IvrSettings.parse(_Reader(env))


def test_ssm_fetcher_reads_every_key_under_the_path_only(ssm):
    ssm.put_parameter(Name="/connect-guard/ivr-keys/key-1", Value="pem-1", Type="SecureString")
    ssm.put_parameter(Name="/connect-guard/ivr-keys/key-2", Value="pem-2", Type="SecureString")
    ssm.put_parameter(Name="/connect-guard/ivr-keys/nested/key-3", Value="pem-3", Type="SecureString")
    ssm.put_parameter(Name="/connect-guard/other", Value="pem-x", Type="SecureString")
    for n in range(12):  # more than one page of GetParametersByPath
        ssm.put_parameter(Name=f"/connect-guard/ivr-keys/extra-{n}", Value="pem", Type="SecureString")

    keys = ssm_key_fetcher(ivr_settings())()

    assert keys["key-1"] == b"pem-1" and keys["key-2"] == b"pem-2"
    assert "key-3" not in keys and "other" not in keys and len(keys) == 14


def test_ssm_fetcher_adds_the_published_two_parameters(ssm):
    ssm.put_parameter(Name="CONNECT_INPUT_DECRYPTION_KEY", Value="legacy-pem", Type="SecureString")
    ssm.put_parameter(Name="CONNECT_INPUT_KEY_ID", Value=" legacy-id\n", Type="SecureString")

    keys = ssm_key_fetcher(
        ivr_settings(
            IVR_LEGACY_KEY_PARAMETER="CONNECT_INPUT_DECRYPTION_KEY", IVR_LEGACY_KEY_ID_PARAMETER="CONNECT_INPUT_KEY_ID"
        )
    )()

    assert keys == {"legacy-id": b"legacy-pem"}


def test_ssm_fetcher_with_a_missing_published_parameter(ssm, captured_logs):
    ssm.put_parameter(Name="CONNECT_INPUT_DECRYPTION_KEY", Value="legacy-pem", Type="SecureString")

    keys = ssm_key_fetcher(
        ivr_settings(
            IVR_LEGACY_KEY_PARAMETER="CONNECT_INPUT_DECRYPTION_KEY", IVR_LEGACY_KEY_ID_PARAMETER="CONNECT_INPUT_KEY_ID"
        )
    )()

    assert keys == {}
    assert "ivr_legacy_key_missing" in [e["event"] for e in captured_logs.events()]


@pytest.mark.parametrize("field", ["iqmp", "dmp1", "d"])
def test_fast_validation_accepts_a_good_key_and_refuses_an_inconsistent_one(fixture_key, field):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert load_rsa_private_key(fixture_key.private_pem, full_validation=False).key_size == 4096
    numbers = load_rsa_private_key(fixture_key.private_pem, full_validation=False).private_numbers()
    values = {name: getattr(numbers, name) for name in ("p", "q", "d", "dmp1", "dmq1", "iqmp")}
    values[field] += 2
    broken = rsa.RSAPrivateNumbers(public_numbers=numbers.public_numbers, **values).private_key(
        unsafe_skip_rsa_key_validation=True
    )
    pem = broken.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    with pytest.raises(ValueError):
        load_rsa_private_key(pem, full_validation=False)
    with pytest.raises(ValueError):
        load_rsa_private_key(pem)
