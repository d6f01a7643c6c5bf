"""Issue 17 findings on the infrastructure, each checked on the template and on the rendered policies.

- The scanner pins the object version after its first read (chalicelib/scanning/s3_object.py); S3
  authorises a GET with `VersionId` as `s3:GetObjectVersion`, so without it every later read of a file in
  a versioned bucket is denied (and the file REJECTED).
- The dead-letter queue holds chat items (agent text): it is encrypted with a customer managed key whose
  policy lets only the stream topic's redrive (SNS) and, through SQS, this account's principals use it;
  the stream handler (Lambda's on-failure destination sends as its role) may use that key via SQS only.
"""

from __future__ import annotations

import pytest

from infra import policies
from infra.stage import TEMPLATE_PATH
from tests.deploy.policy_files import FULL_OPTIONS, as_list, example_stage, rendered, statements


@pytest.fixture(scope="module")
def resources():
    from cfnlint.decode import decode

    template, problems = decode(str(TEMPLATE_PATH))
    assert not problems
    return template["Resources"], template["Outputs"]


def test_the_scanner_may_read_the_version_it_pinned():
    stage = example_stage()
    policy = rendered(stage)["attachment_scanner"]
    (read,) = [s for s in statements(policy) if "s3:GetObject" in as_list(s["Action"])]
    assert set(as_list(read["Action"])) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert read["Resource"] == stage.predicted_outputs()["AttachmentsObjectsArn"]


def test_the_dead_letter_queue_is_encrypted_with_a_customer_managed_rotating_key(resources):
    resources, outputs = resources
    queue = resources["DeadLetterQueue"]["Properties"]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": ["DeadLetterQueueKey", "Arn"]}
    assert "SqsManagedSseEnabled" not in queue
    key = resources["DeadLetterQueueKey"]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    alias = resources["DeadLetterQueueKeyAlias"]["Properties"]
    assert alias["TargetKeyId"] == {"Ref": "DeadLetterQueueKey"}
    assert "DeadLetterQueueKeyAlias" in outputs


def test_the_dead_letter_key_serves_only_the_topics_redrive_and_sqs_in_this_account(resources):
    resources, _ = resources
    by_sid = {s["Sid"]: s for s in resources["DeadLetterQueueKey"]["Properties"]["KeyPolicy"]["Statement"]}
    redrive = by_sid["StreamTopicRedrive"]
    assert redrive["Principal"] == {"Service": "sns.amazonaws.com"}
    assert set(redrive["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert redrive["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "StreamingTopic"}}}
    assert set(by_sid) == {"AccountAdministers", "StreamTopicRedrive"}


def test_the_stream_handler_may_use_the_dead_letter_key_through_sqs_only():
    stage = example_stage()
    by_function = rendered(stage)
    kms = [
        s
        for s in statements(by_function["connect_stream_handler"])
        if any(a.startswith("kms:") for a in as_list(s["Action"]))
    ]
    (statement,) = kms
    assert set(as_list(statement["Action"])) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert statement["Resource"] == f"arn:aws:kms:{stage.region}:{stage.account}:key/*"
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": f"sqs.{stage.region}.amazonaws.com"},
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": stage.predicted_outputs()["DeadLetterQueueKeyAlias"]},
    }
    for function in ("api_handler", "attachment_scanner", "ivr_decryptor"):
        full = rendered(example_stage(**FULL_OPTIONS))[function]
        assert not any("sqs." in str(s.get("Condition")) for s in statements(full)), function


def test_committed_policy_files_are_the_rendered_ones():
    import json

    from tests.deploy.policy_files import CONFIG

    for stage_name in ("dev", "prod"):
        stage = example_stage(stage_name)
        expected = policies.render_all(stage, stage.predicted_outputs(), CONFIG)
        for function, policy in expected.items():
            committed = json.loads(policies.policy_path(stage_name, function).read_text())
            for statement in committed["Statement"]:
                if statement["Sid"] in ("ReadAttachments", "DeadLetterKey"):
                    assert statement == next(s for s in policy["Statement"] if s["Sid"] == statement["Sid"])
            sids = {s["Sid"] for s in committed["Statement"]}
            if function == "connect_stream_handler":
                assert "DeadLetterKey" in sids
