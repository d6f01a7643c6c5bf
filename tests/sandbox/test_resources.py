"""moto is seeded with what the app's `local` stage names, shaped as production declares it."""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox import resources


@pytest.fixture(scope="module")
def seeded():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    stage = resources.LocalStage.load()
    key = resources.IvrKey("a5ecd749-4bd8-4a94-bfde-27eefe4f12b1", b"-----BEGIN PRIVATE KEY-----\nx\n", b"pub")
    resources.seed(url, stage, key)
    yield url, stage, key
    server.stop()


def client(url, service):
    return boto3.client(service, endpoint_url=url, region_name=resources.REGION)


def test_sessions_table_has_the_production_key_and_ttl(seeded):
    url, stage, _ = seeded
    dynamodb = client(url, "dynamodb")
    table = dynamodb.describe_table(TableName=stage.table_name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=stage.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_secret_topic_bucket_and_ivr_key_exist(seeded):
    url, stage, key = seeded
    secret = json.loads(client(url, "secretsmanager").get_secret_value(SecretId=stage.secret_id)["SecretString"])
    assert secret == {
        "APP_SECRET": "sandbox-app-secret",
        "VERIFY_TOKEN": "sandbox-verify-token",
        "PAGE_TOKEN": "sandbox-page-token",
        "PAGE_TOKENS": {"100000000000001": "sandbox-page-token", "17841400000000001": "sandbox-instagram-token"},
    }
    client(url, "sns").get_topic_attributes(TopicArn=stage.topic_arn)
    client(url, "s3").head_bucket(Bucket=resources.ATTACHMENTS_BUCKET)
    parameter = client(url, "ssm").get_parameter(Name=stage.ivr_keys_path + key.key_id, WithDecryption=True)
    assert parameter["Parameter"]["Type"] == "SecureString"
    assert parameter["Parameter"]["Value"] == key.private_pem.decode()


def test_the_fallback_table_definition_matches_the_template():
    # Without infra/template.yaml the sandbox uses its copy; with it, both must agree.
    assert resources.sessions_table_properties() == resources.SESSIONS_TABLE_PROPERTIES


def test_a_new_ivr_key_is_an_rsa_4096_pair():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = resources.new_ivr_key()
    private = serialization.load_pem_private_key(key.private_pem, password=None)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 4096
    assert (
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        == key.public_pem
    )
