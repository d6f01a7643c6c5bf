"""Settings: the only reader of os.environ.

One frozen `Settings` value per environment snapshot. Each capability (messaging, redaction, scanner,
IVR) has its own section, parsed and validated the first time that capability asks for it, so the
scanner Lambda does not fail because a messaging variable is missing, while a missing or malformed
variable still fails fast with one line naming it — never a KeyError deep in a request.

The Chalice test client applies stage variables to os.environ only during each call, so nothing here
runs at import time; `load()` is called per invocation and is cached by the environment snapshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TypeVar

N = TypeVar("N", int, float)

# Comprehend entity types redacted customer -> agent by default (docs/reference/comprehend.md: financial, government ids, secrets).
DEFAULT_PII_ENTITY_TYPES = (
    "CREDIT_DEBIT_NUMBER,CREDIT_DEBIT_CVV,CREDIT_DEBIT_EXPIRY,PIN,BANK_ACCOUNT_NUMBER,BANK_ROUTING,"
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER,SSN,US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER,PASSPORT_NUMBER,DRIVER_ID,"
    "UK_NATIONAL_INSURANCE_NUMBER,CA_SOCIAL_INSURANCE_NUMBER,PASSWORD,AWS_ACCESS_KEY,AWS_SECRET_KEY"
)
# Amazon Connect's default attachment allow-list (docs/reference/file-scanner.md).
DEFAULT_SCAN_EXTENSIONS = "csv,doc,docx,heic,jfif,jpeg,jpg,mov,mp4,pdf,png,ppt,pptx,rtf,txt,wav,xls,xlsx"
DEFAULT_SCAN_EXTENSIONS_SET = frozenset(DEFAULT_SCAN_EXTENSIONS.split(","))
STREAM_TOPIC_FALLBACK = "connect-guard-chat-stream"
# Meta's CDN host families, where customer attachments are downloaded from (docs/messenger.md#attachment-downloads).
DEFAULT_DOWNLOAD_HOSTS = ("*.fbcdn.net", "*.fbsbx.com", "*.cdninstagram.com")
_HOST_PATTERN = re.compile(r"(?:\*\.)?(?:[a-z0-9_-]{1,63}\.)+[a-z0-9_-]{1,63}")
_ORIGIN = re.compile(r"https?://(?:[a-z0-9_.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?/?")

MiB = 1024 * 1024


class SettingsError(ValueError):
    """A setting is missing or malformed. The message names the variable, never its value."""

    @property
    def variable(self) -> str | None:
        """The variable's name, safe to log: every message starts with it."""
        first_word = str(self).split(" ", 1)[0]
        return first_word if re.fullmatch(r"[A-Z][A-Z0-9_]+", first_word) else None


# ---------------------------------------------------------------------------------------------- parsing helpers


class _Reader:
    """Typed access to an environment snapshot; every error names the variable."""

    def __init__(self, env: Mapping[str, str]):
        self._env = env

    def raw(self, name: str) -> str | None:
        value = self._env.get(name)
        return value.strip() if value is not None and value.strip() != "" else None

    def required(self, name: str) -> str:
        value = self.raw(name)
        if value is None:
            raise SettingsError(f"{name} is required but not set")
        return value

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def integer(self, name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        return self._number(name, default, int, minimum, maximum)

    def number(self, name: str, default: float, minimum: float | None = None, maximum: float | None = None) -> float:
        return self._number(name, default, float, minimum, maximum)

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = (self.raw(name) or default).lower()
        if value not in choices:
            raise SettingsError(f"{name} must be one of: {', '.join(choices)}")
        return value

    def csv(self, name: str, default: str) -> tuple[str, ...]:
        value = self._env.get(name)
        if value is None:
            value = default
        return tuple(item.strip() for item in value.split(",") if item.strip())

    def _number(self, name: str, default: N, kind: Callable[[str], N], minimum: N | None, maximum: N | None) -> N:
        value = self.raw(name)
        if value is None:
            return default
        try:
            parsed = kind(value)
        except ValueError:
            raise SettingsError(f"{name} must be a {kind.__name__}") from None
        if (minimum is not None and parsed < minimum) or (maximum is not None and parsed > maximum):
            raise SettingsError(f"{name} must be between {minimum} and {maximum}")
        return parsed


# ---------------------------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class MessagingSettings:
    """Messenger <-> Amazon Connect chat bridge (api_handler, connect_stream_handler)."""

    connect_instance_id: str
    connect_contact_flow_id: str
    connect_streaming_topic_arn: str
    sessions_table: str
    messenger_secret_id: str
    graph_api_url: str
    chat_duration_minutes: int
    secret_cache_seconds: int
    human_agent_tag: bool
    attachment_max_bytes: int
    webhook_max_body_bytes: int
    # Outbound (connect_stream_handler) and the attachment relay.
    attachment_allowed_extensions: frozenset[str] = DEFAULT_SCAN_EXTENSIONS_SET
    attachment_url_expiry_seconds: int = 300
    # The bridge's chats are redacted by message_processor too (the messenger-inbound flow turns it on).
    use_processor: bool = False
    # What the agent sees of a location a customer shares (personal data): none | area | exact.
    location_precision: str = "none"
    # Where customer attachments may be downloaded from (meta/download_policy.py), and the one time budget
    # of a webhook call that all its downloads share (deadline.py).
    attachment_download_hosts: tuple[str, ...] = DEFAULT_DOWNLOAD_HOSTS
    webhook_deadline_seconds: float = 15.0

    @classmethod
    def parse(cls, env: _Reader) -> MessagingSettings:
        instance_id = env.required("CONNECT_INSTANCE_ID")
        if instance_id.startswith("arn:"):
            raise SettingsError("CONNECT_INSTANCE_ID must be the instance id, not its ARN")
        topic = env.required("CONNECT_STREAMING_TOPIC_ARN")
        if not topic.startswith("arn:") or ":sns:" not in topic:
            raise SettingsError("CONNECT_STREAMING_TOPIC_ARN must be an SNS topic ARN")
        graph = env.text("GRAPH_API_URL", "https://graph.facebook.com/v25.0").rstrip("/")
        if not graph.startswith(("https://", "http://")):
            raise SettingsError("GRAPH_API_URL must be an http(s) URL")
        return cls(
            connect_instance_id=instance_id,
            connect_contact_flow_id=env.required("CONNECT_CONTACT_FLOW_ID"),
            connect_streaming_topic_arn=topic,
            sessions_table=env.required("SESSIONS_TABLE"),
            messenger_secret_id=env.required("MESSENGER_SECRET_ID"),
            graph_api_url=graph,
            # Connect accepts 60..10080 minutes; its own default is 25 h.
            chat_duration_minutes=env.integer("CHAT_DURATION_MINUTES", 1500, 60, 10080),
            secret_cache_seconds=env.integer("MESSENGER_SECRET_CACHE_SECONDS", 300, 0, 86400),
            # MESSAGE_TAG + HUMAN_AGENT after the 24 h window needs Meta's App Review: opt in.
            human_agent_tag=env.flag("MESSENGER_HUMAN_AGENT_TAG", False),
            attachment_max_bytes=env.integer("ATTACHMENT_MAX_BYTES", 20 * MiB, 1, 100 * MiB),
            webhook_max_body_bytes=env.integer("WEBHOOK_MAX_BODY_BYTES", 1 * MiB, 1024, 6 * MiB),
            # File types relayed customer -> agent: the instance's attachment allow-list (Connect's default).
            attachment_allowed_extensions=frozenset(
                e.lower().lstrip(".") for e in env.csv("ATTACHMENT_ALLOWED_EXTENSIONS", DEFAULT_SCAN_EXTENSIONS)
            ),
            # GetAttachment URL lifetime (5..300 s): Meta must fetch an agent's file before it expires.
            attachment_url_expiry_seconds=env.integer("ATTACHMENT_URL_EXPIRY_SECONDS", 300, 5, 300),
            use_processor=env.flag("MESSENGER_USE_PROCESSOR", False),
            location_precision=_location_precision(env),
            attachment_download_hosts=_download_hosts(env),
            # Meta waits 20 s for the answer; the api_handler Lambda stops at 28 s (.chalice/config.json).
            webhook_deadline_seconds=env.number("WEBHOOK_DEADLINE_SECONDS", 15.0, 1.0, 25.0),
        )


def _download_hosts(env: _Reader) -> tuple[str, ...]:
    """`*.name` patterns and exact names, https only; an entry with a scheme is an exact origin trusted as
    written, address included (the local sandbox's CDN stand-in), so it is never a default."""
    hosts = tuple(h.lower() for h in env.csv("ATTACHMENT_DOWNLOAD_HOSTS", ",".join(DEFAULT_DOWNLOAD_HOSTS)))
    for host in hosts:
        if not (_HOST_PATTERN.fullmatch(host) or _ORIGIN.fullmatch(host)):
            raise SettingsError(f"ATTACHMENT_DOWNLOAD_HOSTS: {host!r} is not a host name, *.pattern or origin")
    if not hosts:
        raise SettingsError("ATTACHMENT_DOWNLOAD_HOSTS must name at least one host")
    return hosts


def _location_precision(env: _Reader) -> str:
    """A shared location is personal data: by default the agent is told one was shared, without coordinates
    (docs/messenger.md#location-is-personal-data)."""
    return env.choice("MESSENGER_LOCATION_PRECISION", "none", ("none", "area", "exact"))


@dataclass(frozen=True)
class RedactionSettings:
    """PII redaction engine (docs/reference/comprehend.md, docs/reference/pii-validation.md)."""

    engine: str
    entity_types: frozenset[str]
    outbound_entity_types: frozenset[str]
    language: str
    min_score: float
    mask_template: str
    card_context_seconds: int = 180
    card_context_messages: int = 5

    @classmethod
    def parse(cls, env: _Reader) -> RedactionSettings:
        template = env.text("PII_MASK_TEMPLATE", "[{type}]")
        if any(ch.isdigit() for ch in template):
            raise SettingsError("PII_MASK_TEMPLATE must not contain digits")
        inbound = frozenset(t.upper() for t in env.csv("PII_ENTITY_TYPES", DEFAULT_PII_ENTITY_TYPES))
        outbound = frozenset(t.upper() for t in env.csv("PII_OUTBOUND_ENTITY_TYPES", ""))
        for name, types in (("PII_ENTITY_TYPES", inbound), ("PII_OUTBOUND_ENTITY_TYPES", outbound)):
            unknown = types - COMPREHEND_PII_TYPES
            if unknown:
                raise SettingsError(f"{name} has unknown entity types: {', '.join(sorted(unknown))}")
        engine = env.choice("PII_ENGINE", "local", ("local", "comprehend", "both"))
        # Connect's six chat languages (Contact Lens redacts these): the local detectors' context and number words.
        language = env.choice("PII_LANGUAGE", "en", PII_LANGUAGES)
        if engine != "local" and language not in COMPREHEND_PII_LANGUAGES:
            raise SettingsError(
                f"PII_LANGUAGE={language} needs PII_ENGINE=local: Comprehend's DetectPiiEntities "
                f"accepts {' and '.join(COMPREHEND_PII_LANGUAGES)} only"
            )
        return cls(
            engine=engine,
            entity_types=inbound,
            outbound_entity_types=outbound,
            language=language,
            min_score=env.number("PII_MIN_SCORE", 0.5, 0.0, 1.0),
            mask_template=template,
            # How long (and for how many customer messages) digits stay masked once card context is on.
            card_context_seconds=env.integer("PII_CARD_CONTEXT_SECONDS", 180, 0, 3600),
            card_context_messages=env.integer("PII_CARD_CONTEXT_MESSAGES", 5, 0, 50),
        )


PII_LANGUAGES = ("en", "es", "fr", "pt", "de", "it")  # chalicelib/redaction/languages.py reads each
COMPREHEND_PII_LANGUAGES = ("en", "es")  # docs/reference/comprehend.md


# Every entity type DetectPiiEntities knows (docs/reference/comprehend.md); ALL is not a type we can mask by name.
COMPREHEND_PII_TYPES = frozenset(
    [
        "ADDRESS",
        "AGE",
        "AWS_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "BANK_ACCOUNT_NUMBER",
        "BANK_ROUTING",
        "CA_HEALTH_NUMBER",
        "CA_SOCIAL_INSURANCE_NUMBER",
        "CREDIT_DEBIT_CVV",
        "CREDIT_DEBIT_EXPIRY",
        "CREDIT_DEBIT_NUMBER",
        "DATE_TIME",
        "DRIVER_ID",
        "EMAIL",
        "INTERNATIONAL_BANK_ACCOUNT_NUMBER",
        "IN_AADHAAR",
        "IN_NREGA",
        "IN_PERMANENT_ACCOUNT_NUMBER",
        "IN_VOTER_NUMBER",
        "IP_ADDRESS",
        "LICENSE_PLATE",
        "MAC_ADDRESS",
        "NAME",
        "PASSPORT_NUMBER",
        "PASSWORD",
        "PHONE",
        "PIN",
        "SSN",
        "SWIFT_CODE",
        "UK_NATIONAL_HEALTH_SERVICE_NUMBER",
        "UK_NATIONAL_INSURANCE_NUMBER",
        "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER",
        "URL",
        "USERNAME",
        "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
        "VEHICLE_IDENTIFICATION_NUMBER",
    ]
)


@dataclass(frozen=True)
class ProcessorSettings:
    """Connect MESSAGE_PROCESSOR (docs/reference/message-processor.md). Owned by the message processor issue.

    `on_error` decides what an event we cannot judge gets (malformed, store outage, internal error):
    `reject` (default, fail closed) or `approve`. `reject_entity_types` are rejected outright instead of masked.
    """

    on_error: str
    reject_entity_types: frozenset[str]
    sessions_table: str

    @classmethod
    def parse(cls, env: _Reader) -> ProcessorSettings:
        reject = frozenset(t.upper() for t in env.csv("PROCESSOR_REJECT_ENTITY_TYPES", ""))
        unknown = reject - COMPREHEND_PII_TYPES
        if unknown:
            raise SettingsError(f"PROCESSOR_REJECT_ENTITY_TYPES has unknown entity types: {', '.join(sorted(unknown))}")
        return cls(
            on_error=env.choice("PROCESSOR_ON_ERROR", "reject", ("reject", "approve")),
            reject_entity_types=reject,
            sessions_table=env.required("SESSIONS_TABLE"),
        )


@dataclass(frozen=True)
class ScannerSettings:
    """FILE_SCANNER attachment scanner (docs/reference/file-scanner.md, docs/reference/rekognition.md). Owned by the scanner issue.

    Every default is the safe choice; each variable is documented in the README's scanner section.
    """

    # Rekognition moderation taxonomy v7 top-level categories rejected by default (docs/reference/rekognition.md).
    DEFAULT_MODERATION_CATEGORIES = "Explicit,Violence,Visually Disturbing,Hate Symbols"  # not a field: no annotation

    allowed_extensions: frozenset[str]
    max_bytes: int
    time_budget_ms: int
    deadline_margin_ms: int
    zip_max_entries: int
    zip_max_uncompressed_bytes: int
    zip_max_ratio: float
    pdf_max_inflated_bytes: int
    allow_encrypted_pdf: bool
    allow_csv_formulas: bool
    allow_unsupported_images: bool
    moderation_enabled: bool
    moderation_categories: tuple[tuple[str, float], ...]  # (taxonomy name, minimum confidence that rejects)
    # Antivirus engine (docs/scanner.md#engines): off | clamav (a warm clamd at host:port) | guardduty.
    antivirus: str = "off"
    clamav_address: str | None = None

    @classmethod
    def parse(cls, env: _Reader) -> ScannerSettings:
        known = frozenset(DEFAULT_SCAN_EXTENSIONS.split(","))
        extensions = frozenset(
            e.lower().lstrip(".") for e in env.csv("SCAN_ALLOWED_EXTENSIONS", DEFAULT_SCAN_EXTENSIONS)
        )
        if not extensions <= known:
            raise SettingsError(
                f"SCAN_ALLOWED_EXTENSIONS may only name types the scanner inspects: {', '.join(sorted(known))}"
            )
        default_confidence = env.number("MODERATION_MIN_CONFIDENCE", 80.0, 0.0, 100.0)
        antivirus = env.choice("SCAN_ANTIVIRUS", "off", ("off", "clamav", "guardduty"))
        clamav_address = env.raw("SCAN_CLAMAV_ADDRESS")
        if antivirus == "clamav":
            if clamav_address is None:
                raise SettingsError("SCAN_CLAMAV_ADDRESS is required when SCAN_ANTIVIRUS is clamav")
            if not _is_host_port(clamav_address):
                raise SettingsError("SCAN_CLAMAV_ADDRESS must be host:port")
        return cls(
            allowed_extensions=extensions,
            max_bytes=env.integer("SCAN_MAX_BYTES", 20 * MiB, 1, 100 * MiB),
            time_budget_ms=env.integer("SCAN_TIME_BUDGET_MS", 20000, 1000, 60000),
            deadline_margin_ms=env.integer("SCAN_DEADLINE_MARGIN_MS", 1000, 0, 30000),
            zip_max_entries=env.integer("SCAN_ZIP_MAX_ENTRIES", 10000, 1, 1000000),
            zip_max_uncompressed_bytes=env.integer("SCAN_ZIP_MAX_UNCOMPRESSED_BYTES", 1024 * MiB, 1, 16 * 1024 * MiB),
            zip_max_ratio=env.number("SCAN_ZIP_MAX_RATIO", 200.0, 1.0, 10000.0),
            pdf_max_inflated_bytes=env.integer("SCAN_PDF_MAX_INFLATED_BYTES", 64 * MiB, 1, 1024 * MiB),
            allow_encrypted_pdf=env.choice("SCAN_PDF_ENCRYPTED", "reject", ("reject", "allow")) == "allow",
            allow_csv_formulas=env.choice("SCAN_CSV_FORMULAS", "reject", ("reject", "allow")) == "allow",
            # Images Rekognition cannot take (HEIC, under 80 px, over 15 MB or 10,000 px) still pass type, structure
            # and antivirus checks; rejecting them by default refused every iPhone photo (HEIC is in Connect's
            # default allow-list). They are logged `clean_unmoderated` with the cause; `reject` refuses them.
            allow_unsupported_images=env.choice("SCAN_UNSUPPORTED_IMAGES", "allow", ("reject", "allow")) == "allow",
            moderation_enabled=env.flag("MODERATION_ENABLED", True),
            moderation_categories=_categories(
                env.csv("MODERATION_CATEGORIES", cls.DEFAULT_MODERATION_CATEGORIES), default_confidence
            ),
            antivirus=antivirus,
            clamav_address=clamav_address,
        )


def _is_host_port(value: str) -> bool:
    host, colon, port = value.rpartition(":")
    return bool(colon and host and port.isdigit() and 0 < int(port) < 65536 and not any(c.isspace() for c in host))


def _categories(items: tuple[str, ...], default_confidence: float) -> tuple[tuple[str, float], ...]:
    """`Explicit:80,Violence` -> (("Explicit", 80.0), ("Violence", <default>))."""
    parsed = []
    for item in items:
        name, colon, confidence = item.rpartition(":") if ":" in item else (item, "", "")
        name = name.strip()
        try:
            value = float(confidence) if colon else default_confidence
        except ValueError:
            raise SettingsError("MODERATION_CATEGORIES entries must look like Name or Name:confidence") from None
        if not name or not 0.0 <= value <= 100.0:
            raise SettingsError("MODERATION_CATEGORIES confidences must be between 0 and 100")
        parsed.append((name, value))
    return tuple(parsed)


@dataclass(frozen=True)
class IvrSettings:
    """Secure IVR decryptor (docs/reference/ivr-encryption.md). Owned by the IVR issue; documented in the README."""

    keys_path: str
    key_cache_seconds: int
    key_refresh_min_seconds: int
    return_value: bool
    max_ciphertext_chars: int
    key_validation: str
    legacy_key_parameter: str | None
    legacy_key_id_parameter: str | None

    @classmethod
    def parse(cls, env: _Reader) -> IvrSettings:
        path = env.text("IVR_KEYS_PATH", "/connect-guard/ivr-keys/")
        if not _is_ssm_name(path) or not path.startswith("/"):
            raise SettingsError("IVR_KEYS_PATH must be an SSM parameter path such as /connect-guard/ivr-keys/")
        legacy_key = env.raw("IVR_LEGACY_KEY_PARAMETER")
        legacy_id = env.raw("IVR_LEGACY_KEY_ID_PARAMETER")
        if (legacy_key is None) != (legacy_id is None):
            raise SettingsError("IVR_LEGACY_KEY_PARAMETER and IVR_LEGACY_KEY_ID_PARAMETER must be set together")
        for name, value in (("IVR_LEGACY_KEY_PARAMETER", legacy_key), ("IVR_LEGACY_KEY_ID_PARAMETER", legacy_id)):
            if value is not None and not _is_ssm_name(value):
                raise SettingsError(f"{name} must be an SSM parameter name")
        return cls(
            keys_path=path if path.endswith("/") else path + "/",
            key_cache_seconds=env.integer("IVR_KEY_CACHE_SECONDS", 900, 0, 86400),
            # An unknown key id refreshes the keys at most this often: a flood of made-up ids cannot flood SSM.
            key_refresh_min_seconds=env.integer("IVR_KEY_REFRESH_MIN_SECONDS", 10, 0, 3600),
            return_value=env.flag("IVR_RETURN_VALUE", True),
            # Connect's 12 digits are 1,176 base64 characters; 20 digits stay well under 1,300.
            max_ciphertext_chars=env.integer("IVR_MAX_CIPHERTEXT_CHARS", 4096, 256, 65536),
            # full: OpenSSL's RSA key check (~250 ms per key per container); fast: consistency checks only.
            key_validation=env.choice("IVR_KEY_VALIDATION", "full", ("full", "fast")),
            legacy_key_parameter=legacy_key,
            legacy_key_id_parameter=legacy_id,
        )


_SSM_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")


def _is_ssm_name(value: str) -> bool:
    return 0 < len(value) <= 1011 and set(value) <= _SSM_NAME_CHARS


# ---------------------------------------------------------------------------------------------- the whole


@dataclass(frozen=True)
class Settings:
    """All settings of one environment snapshot; sections validate on first access."""

    env: Mapping[str, str] = field(repr=False)
    log_level: str = "INFO"

    @cached_property
    def messaging(self) -> MessagingSettings:
        return MessagingSettings.parse(_Reader(self.env))

    @cached_property
    def redaction(self) -> RedactionSettings:
        return RedactionSettings.parse(_Reader(self.env))

    @cached_property
    def processor(self) -> ProcessorSettings:
        return ProcessorSettings.parse(_Reader(self.env))

    @cached_property
    def scanner(self) -> ScannerSettings:
        return ScannerSettings.parse(_Reader(self.env))

    @cached_property
    def ivr(self) -> IvrSettings:
        return IvrSettings.parse(_Reader(self.env))


_PREFIXES = (
    "CONNECT_",
    "SESSIONS_",
    "MESSENGER_",
    "GRAPH_",
    "PII_",
    "SCAN_",
    "MODERATION_",
    "IVR_",
    "CHAT_",
    "ATTACHMENT_",
    "WEBHOOK_",
    "LOG_",
    "PROCESSOR_",
)


def load() -> Settings:
    """Settings for the current environment (cheap: cached per snapshot of our variables).

    Every invocation calls this. Building the snapshot decodes every variable (~80-200 us for 35 variables,
    measured by bench_processor.py, most of a warm message's cost), so the last environment seen is kept as
    CPython's raw mapping and compared in C (~1 us): an unchanged environment returns the same Settings.
    """
    global _last
    raw = getattr(os.environ, "_data", None)  # os._Environ's bytes (POSIX) or str mapping
    last = _last
    if raw is not None and last is not None and last[0] == raw:
        return last[1]
    snapshot = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_PREFIXES)))
    current = _load(snapshot)
    if raw is not None:
        _last = (dict(raw), current)
    return current


_last: tuple[dict, Settings] | None = None


@lru_cache(maxsize=8)
def _load(snapshot: tuple[tuple[str, str], ...]) -> Settings:
    env = dict(snapshot)
    level = _Reader(env).choice("LOG_LEVEL", "INFO", ("debug", "info", "warning", "error", "critical")).upper()
    return Settings(env=env, log_level=level)


LOCAL_HINT_SHOWN = "CONNECT_GUARD_LOCAL_HINT_SHOWN"


def chalice_local_problem() -> str | None:
    """Under `chalice local` only: one line saying what is missing and what to run instead, else None.

    `chalice local` (stage dev: no settings) answers 500 `misconfigured`, and `chalice local --stage local` alone
    has no AWS region or emulators (botocore's NoRegionError); both are set up by `make local` (docs/local.md).
    Cheap and silent everywhere else: deploy, package, tests and Lambda never see a line. The line is shown once:
    chalice's reloader imports the app in two processes, and the second inherits the marker set here.
    """
    import sys

    if os.environ.get("AWS_CHALICE_CLI_MODE") != "true" or sys.argv[1:2] != ["local"]:
        return None
    if os.environ.get(LOCAL_HINT_SHOWN):
        return None
    os.environ[LOCAL_HINT_SHOWN] = "1"
    fix = "run `make local` instead (chalice local --stage local wired to the embedded emulators; docs/local.md)"
    try:
        load().messaging  # noqa: B018 (reading the section validates it)
    except SettingsError as exc:
        return f"connect-guard: chalice local cannot serve the webhook ({exc}); {fix}"
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        return (
            "connect-guard: chalice local has no AWS region and no emulators (the webhook would answer 500, "
            f"NoRegionError); {fix}"
        )
    return None


def stream_topic_for_subscription() -> str:
    """The SNS topic `@app.on_sns_message` subscribes to, read at import time.

    Chalice exports stage variables before importing app.py during deploy/package/local, so the real
    ARN is there when it matters. Elsewhere (benchmarks, bare imports) the topic name is a placeholder
    that Chalice never uses.
    """
    return os.environ.get("CONNECT_STREAMING_TOPIC_ARN") or STREAM_TOPIC_FALLBACK
