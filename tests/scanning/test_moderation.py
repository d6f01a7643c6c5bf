"""Rekognition through botocore's Stubber (validates each request against the real service model)."""

import pytest
from botocore.stub import Stubber

from chalicelib import aws
from chalicelib.scanning.moderation import ModerationPolicy, RekognitionModerator
from chalicelib.scanning.reasons import Reason, Rejected
from tests.scanning import files
from tests.scanning.helpers import BUCKET, FakeModerator, decide

KEY = "connect/inst/Attachments/chat/photo.png"


def label(name, confidence, parent="", level=None):
    level = level or (1 if not parent else 2)
    return {"Name": name, "Confidence": confidence, "ParentName": parent, "TaxonomyLevel": level}


@pytest.fixture
def rekognition():
    client = aws.client("rekognition")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def moderator(pairs=(("Explicit", 80.0), ("Violence", 90.0))):
    return RekognitionModerator(lambda: aws.client("rekognition"), ModerationPolicy.from_pairs(pairs))


def expect(stub, labels, version="7.0", min_confidence=80.0, image_version=None):
    s3_object = {"Bucket": BUCKET, "Name": KEY, **({"Version": image_version} if image_version else {})}
    stub.add_response(
        "detect_moderation_labels",
        {"ModerationLabels": labels, "ModerationModelVersion": version},
        {"Image": {"S3Object": s3_object}, "MinConfidence": min_confidence},
    )


def test_labels_below_their_category_threshold_pass(rekognition):
    expect(rekognition, [label("Violence", 85.0), label("Weapons", 85.0, "Violence")])
    assert moderator().moderate(BUCKET, KEY).category is None


def test_label_at_or_above_its_threshold_rejects(rekognition):
    expect(rekognition, [label("Violence", 90.0)])
    assert moderator().moderate(BUCKET, KEY).category == "Violence"


def test_second_level_label_counts_for_its_top_level_category(rekognition):
    expect(rekognition, [label("Explicit Sexual Activity", 97.0, "Explicit")])
    assert moderator().moderate(BUCKET, KEY).category == "Explicit"


def test_third_level_label_walks_up_to_its_category(rekognition):
    labels = [
        label("Explicit", 99.0),
        label("Explicit Nudity", 99.0, "Explicit"),
        label("Exposed Male Genitalia", 99.0, "Explicit Nudity", 3),
    ]
    expect(rekognition, labels[2:])  # only the leaf came back: its L2 parent is resolved from the taxonomy
    assert moderator().moderate(BUCKET, KEY).category == "Explicit"
    expect(rekognition, labels)
    assert moderator().moderate(BUCKET, KEY).category == "Explicit"


def test_second_level_categories_can_be_configured_alone(rekognition):
    expect(rekognition, [label("Weapons", 70.0, "Violence")], min_confidence=60.0)
    assert moderator((("Graphic Violence", 60.0),)).moderate(BUCKET, KEY).category is None
    expect(rekognition, [label("Graphic Violence", 70.0, "Violence")], min_confidence=60.0)
    assert moderator((("Graphic Violence", 60.0),)).moderate(BUCKET, KEY).category == "Graphic Violence"


def test_unconfigured_categories_never_reject(rekognition):
    expect(rekognition, [label("Alcohol", 99.9), label("Swimwear or Underwear", 99.0)])
    assert moderator().moderate(BUCKET, KEY).category is None


def test_v6_response_names_match_v7_settings(rekognition):
    expect(rekognition, [label("Explicit Nudity", 95.0), label("Graphic Male Nudity", 95.0, "Explicit Nudity")], "6.1")
    assert moderator().moderate(BUCKET, KEY).category == "Explicit"


def test_v6_setting_names_match_v7_responses(rekognition):
    expect(rekognition, [label("Drugs & Tobacco", 75.0)], min_confidence=70.0)
    assert moderator((("Drugs", 70.0),)).moderate(BUCKET, KEY).category == "Drugs & Tobacco"


def test_v6_suggestive_maps_to_both_v7_successors(rekognition):
    policy = ModerationPolicy.from_pairs([("Suggestive", 60.0)])
    assert set(policy.thresholds) == {"Non-Explicit Nudity of Intimate parts and Kissing", "Swimwear or Underwear"}
    expect(rekognition, [label("Swimwear or Underwear", 65.0)], min_confidence=60.0)
    assert (
        RekognitionModerator(lambda: aws.client("rekognition"), policy).moderate(BUCKET, KEY).category
        == "Swimwear or Underwear"
    )


def test_object_version_is_pinned(rekognition):
    expect(rekognition, [], image_version="v42")
    assert moderator().moderate(BUCKET, KEY, "v42").category is None


@pytest.mark.parametrize(
    "code, reason",
    [
        ("ThrottlingException", Reason.MODERATION_ERROR),
        ("AccessDeniedException", Reason.MODERATION_ERROR),
        ("InternalServerError", Reason.MODERATION_ERROR),
        ("InvalidS3ObjectException", Reason.MODERATION_ERROR),
        ("InvalidImageFormatException", Reason.IMAGE_UNSUPPORTED),
        ("ImageTooLargeException", Reason.IMAGE_UNSUPPORTED),
        # Also what a bad request of ours gets: never mistaken for "unsupported image" (which may be allowed).
        ("InvalidParameterException", Reason.MODERATION_ERROR),
    ],
)
def test_errors_become_rejections(rekognition, code, reason):
    rekognition.add_client_error("detect_moderation_labels", service_error_code=code, http_status_code=400)
    with pytest.raises(Rejected) as caught:
        moderator().moderate(BUCKET, KEY)
    assert (caught.value.reason, caught.value.detail) == (reason, code)


def test_flagged_image_is_rejected_and_clean_one_approved():
    assert decide("me.png", files.png(), FakeModerator("Explicit")).reason is Reason.IMAGE_MODERATED
    clean = FakeModerator(None)
    assert decide("me.jpg", files.jpeg(), clean).reason is Reason.CLEAN
    assert len(clean.calls) == 1


def test_images_rekognition_cannot_take_follow_the_policy():
    fake = FakeModerator(None)
    for name, data in (("tiny.png", files.png(20, 20)), ("tiny.jpg", files.jpeg(50, 4000)), ("p.heic", files.heic())):
        assert decide(name, data, fake).reason is Reason.CLEAN_UNMODERATED  # the default: HEIC photos must pass
        assert decide(name, data, fake, SCAN_UNSUPPORTED_IMAGES="reject").reason is Reason.IMAGE_UNSUPPORTED
    assert fake.calls == []  # never sent to Rekognition


def test_broken_image_headers_are_rejected():
    png = bytearray(files.png())
    png[20] ^= 0xFF  # IHDR CRC no longer matches
    assert decide("a.png", bytes(png), FakeModerator()).reason is Reason.IMAGE_MALFORMED
    assert (
        decide("a.jpg", b"\xff\xd8\xff\xe0\x00\x01" + b"\x00" * 100, FakeModerator()).reason is Reason.IMAGE_MALFORMED
    )


def test_jpeg_with_a_long_exif_header_is_still_moderated():
    fake = FakeModerator(None)
    assert decide("a.jpg", files.jpeg(exif_bytes=30000), fake).reason is Reason.CLEAN
    assert len(fake.calls) == 1


def test_no_categories_means_no_moderation_call():
    policy = ModerationPolicy.from_pairs([])
    assert not RekognitionModerator(lambda: None, policy).enabled
