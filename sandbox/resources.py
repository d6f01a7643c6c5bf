"""The AWS resources the app expects, created in moto from the same definitions production uses.

Names come from the `local` stage of .chalice/config.json (what the app reads); the table's shape
comes from `infra/template.yaml` when it is there (so a change to production's table shows up here),
else from the same properties written out below.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_DIR / ".chalice" / "config.json"
TEMPLATE_PATH = PROJECT_DIR / "infra" / "template.yaml"

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class MessengerSecret(TypedDict):
    """The Messenger secret's document (chalicelib/messaging/meta/secrets.py reads it)."""

    APP_SECRET: str
    VERIFY_TOKEN: str
    PAGE_TOKEN: str
    PAGE_TOKENS: dict[str, str]


# Local values only: the sandbox's Messenger app (docs/getting-started.md).
MESSENGER_SECRET: MessengerSecret = {
    "APP_SECRET": "sandbox-app-secret",
    "VERIFY_TOKEN": "sandbox-verify-token",
    "PAGE_TOKEN": "sandbox-page-token",
    # Issue 16: several accounts per deployment. The sandbox serves one Facebook Page and one Instagram
    # account (ids as in sandbox/customer.py), each with its own token.
    "PAGE_TOKENS": {"100000000000001": "sandbox-page-token", "17841400000000001": "sandbox-instagram-token"},
}

# The table as infra/template.yaml declares it (SessionsTable), used until the template is on this branch.
SESSIONS_TABLE_PROPERTIES: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
}

ATTACHMENTS_BUCKET = "connect-guard-local-attachments"
ATTACHMENTS_PREFIX = "connect/sandbox/Attachments/chat"


@dataclass(frozen=True)
class LocalStage:
    """What the app's `local` stage names: the resources the sandbox must provide."""

    env: dict[str, str]

    @classmethod
    def load(cls) -> LocalStage:
        config = json.loads(CONFIG_PATH.read_text())
        env = {**config.get("environment_variables", {}), **config["stages"]["local"].get("environment_variables", {})}
        return cls(env)

    @property
    def instance_id(self) -> str:
        return self.env["CONNECT_INSTANCE_ID"]

    @property
    def contact_flow_id(self) -> str:
        return self.env["CONNECT_CONTACT_FLOW_ID"]

    @property
    def topic_arn(self) -> str:
        return self.env["CONNECT_STREAMING_TOPIC_ARN"]

    @property
    def table_name(self) -> str:
        return self.env["SESSIONS_TABLE"]

    @property
    def secret_id(self) -> str:
        return self.env["MESSENGER_SECRET_ID"]

    @property
    def ivr_keys_path(self) -> str:
        path = self.env.get("IVR_KEYS_PATH", "/connect-guard/ivr-keys/")
        return path if path.endswith("/") else path + "/"


def sessions_table_properties() -> dict[str, Any]:
    """SessionsTable's key, billing and TTL from infra/template.yaml, or the copy above without it."""
    if not TEMPLATE_PATH.exists():
        return SESSIONS_TABLE_PROPERTIES
    import yaml

    class _CfnLoader(yaml.SafeLoader):
        pass

    # Intrinsic functions (!Sub, !Ref, ...) are kept as opaque values: only literal properties are used.
    _CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load(TEMPLATE_PATH.read_text(), Loader=_CfnLoader)
    properties = template["Resources"]["SessionsTable"]["Properties"]
    keys = ("BillingMode", "AttributeDefinitions", "KeySchema", "TimeToLiveSpecification")
    return {key: properties[key] for key in keys if key in properties}


@dataclass(frozen=True)
class IvrKey:
    """A Connect flow security key: the id Connect would return, and the PEMs."""

    key_id: str
    private_pem: bytes
    public_pem: bytes
    certificate_pem: bytes = b""  # what the flow's Store customer input block holds (secure-ivr.json)


def new_ivr_key() -> IvrKey:
    """An RSA-4096 key pair and its self-signed certificate, as `openssl req -x509 -newkey rsa:4096` makes for
    Connect (docs/reference/ivr-encryption.md)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    private = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connect-guard sandbox")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=730))
        .sign(private, hashes.SHA256())
    )
    return IvrKey(
        key_id=str(uuid.uuid4()),
        private_pem=private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        public_pem=private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
    )


def seed(moto_url: str, stage: LocalStage, ivr_key: IvrKey) -> None:
    """Create every resource the app and the emulators use in a fresh moto server."""
    import boto3

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=moto_url,
            region_name=REGION,
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
        )

    table = sessions_table_properties()
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=stage.table_name,
        BillingMode=table.get("BillingMode", "PAY_PER_REQUEST"),
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
    )
    ttl = table.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=stage.table_name, TimeToLiveSpecification=ttl)

    client("secretsmanager").create_secret(Name=stage.secret_id, SecretString=json.dumps(MESSENGER_SECRET))

    # Connect publishes chat streaming to a standard topic named by the stage; moto's topic ARN must match it.
    topic_name = stage.topic_arn.rsplit(":", 1)[-1]
    created = client("sns").create_topic(Name=topic_name)["TopicArn"]
    if created != stage.topic_arn:
        raise RuntimeError(
            f"CONNECT_STREAMING_TOPIC_ARN of the local stage must use account {ACCOUNT_ID} and region {REGION}"
        )

    client("s3").create_bucket(Bucket=ATTACHMENTS_BUCKET)

    client("ssm").put_parameter(
        Name=stage.ivr_keys_path + ivr_key.key_id,
        Value=ivr_key.private_pem.decode(),
        Type="SecureString",
        Tier="Advanced" if len(ivr_key.private_pem) > 4096 else "Standard",
    )
