"""Rekognition DetectModerationLabels on the object in S3, judged by per-category thresholds.

Categories are taxonomy v7 names (docs/reference/rekognition.md), top level or second level. Accounts still on an
older model, and settings written for it, use v6 names: both sides are mapped to v7 so a filter
never silently stops matching after Rekognition's migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib import logs
from chalicelib.scanning.reasons import Reason, Rejected

log = logs.get_logger("scanner.moderation")

V7_TOP_LEVEL = (
    "Explicit",
    "Non-Explicit Nudity of Intimate parts and Kissing",
    "Swimwear or Underwear",
    "Violence",
    "Visually Disturbing",
    "Rude Gestures",
    "Drugs & Tobacco",
    "Alcohol",
    "Gambling",
    "Hate Symbols",
)
# v6.1 top-level names -> their v7 successors.
V6_TO_V7: Mapping[str, tuple[str, ...]] = {
    "Explicit Nudity": ("Explicit",),
    "Suggestive": ("Non-Explicit Nudity of Intimate parts and Kissing", "Swimwear or Underwear"),
    "Drugs": ("Drugs & Tobacco",),
    "Tobacco": ("Drugs & Tobacco",),
}
# v7 second-level labels -> their top level, so a leaf returned without its parents still finds its
# category (Rekognition's documented v7 hierarchy).
V7_PARENTS: Mapping[str, str] = {
    "Explicit Nudity": "Explicit",
    "Explicit Sexual Activity": "Explicit",
    "Sex Toys": "Explicit",
    "Non-Explicit Nudity": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Obstructed Intimate Parts": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Kissing on the Lips": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Female Swimwear or Underwear": "Swimwear or Underwear",
    "Male Swimwear or Underwear": "Swimwear or Underwear",
    "Weapons": "Violence",
    "Graphic Violence": "Violence",
    "Death and Emaciation": "Visually Disturbing",
    "Crashes": "Visually Disturbing",
    "Products": "Drugs & Tobacco",
    "Drugs & Tobacco Paraphernalia & Use": "Drugs & Tobacco",
    "Alcohol Use": "Alcohol",
    "Alcoholic Beverages": "Alcohol",
    "Middle Finger": "Rude Gestures",
    "Nazi Party": "Hate Symbols",
    "White Supremacy": "Hate Symbols",
    "Extremist": "Hate Symbols",
}
# Rekognition's answer for an image it cannot read or size: the unsupported-image policy decides.
# InvalidParameterException is not among them: it also answers a request of ours that is wrong, and
# images.fits_rekognition already sends out-of-range dimensions to the policy before any call.
_UNSUPPORTED = frozenset({"InvalidImageFormatException", "ImageTooLargeException"})


@dataclass(frozen=True)
class ModerationPolicy:
    thresholds: Mapping[str, float]  # v7 category name -> minimum confidence that rejects

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, float]]) -> ModerationPolicy:
        thresholds: dict[str, float] = {}
        for name, confidence in pairs:
            for v7 in V6_TO_V7.get(name, (name,)):
                thresholds[v7] = min(confidence, thresholds.get(v7, 100.0))
        return cls(thresholds)

    @property
    def min_confidence(self) -> float:
        return min(self.thresholds.values(), default=100.0)

    def flagged(self, labels: list[dict]) -> str | None:
        """The configured category that one of `labels` reaches, if any."""
        parents: dict[str, str] = {label.get("Name") or "": label.get("ParentName") or "" for label in labels}
        for label in labels:
            confidence = float(label.get("Confidence") or 0.0)
            for name in _lineage(label.get("Name") or "", label.get("ParentName") or "", parents):
                for category in (name, *V6_TO_V7.get(name, ())):
                    threshold = self.thresholds.get(category)
                    if threshold is not None and confidence >= threshold:
                        return category
        return None


def _lineage(name: str, parent: str, parents: Mapping[str, str]) -> list[str]:
    chain = [name]
    while parent and parent not in chain and len(chain) < 4:
        chain.append(parent)
        parent = parents.get(parent) or V7_PARENTS.get(parent, "")
    return chain


@dataclass(frozen=True)
class ModerationResult:
    category: str | None
    model_version: str | None


class Moderator(Protocol):
    def moderate(self, bucket: str, key: str, version: str | None = None) -> ModerationResult:
        """The configured category the image at this S3 location falls in, if any; raises Rejected."""


class RekognitionModerator:
    """Adapter over a Rekognition client (a Stubber-wrapped one in tests), built on first use."""

    def __init__(self, client: Callable[[], Any], policy: ModerationPolicy):
        self._client = client
        self._policy = policy

    @property
    def enabled(self) -> bool:
        return bool(self._policy.thresholds)

    def moderate(self, bucket: str, key: str, version: str | None = None) -> ModerationResult:
        s3_object = {"Bucket": bucket, "Name": key}
        if version:
            s3_object["Version"] = version
        try:
            response = self._client().detect_moderation_labels(
                Image={"S3Object": s3_object}, MinConfidence=self._policy.min_confidence
            )
        except Exception as exc:
            from chalicelib.aws import error_code

            code = error_code(exc)
            reason = Reason.IMAGE_UNSUPPORTED if code in _UNSUPPORTED else Reason.MODERATION_ERROR
            raise Rejected(reason, code) from None
        labels = response.get("ModerationLabels")
        if not isinstance(labels, list):
            raise Rejected(Reason.MODERATION_ERROR, "NoLabels")
        result = ModerationResult(self._policy.flagged(labels), response.get("ModerationModelVersion"))
        # AWS advises recording the model version: a taxonomy change shows up here first.
        logs.log_event(
            log,
            "moderation_result",
            model_version=result.model_version,
            labels=len(labels),
            flagged=result.category is not None,
        )
        return result
