"""Test doubles for the sandbox's own unit tests: an in-memory S3 and a scripted Lambda invoker."""

from __future__ import annotations

import io

from sandbox.lambdas import Invocation


class MemoryS3:
    """The five S3 calls the Connect emulator makes."""

    def __init__(self):
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket, Key, Body, ContentType=None):
        self.objects[(Bucket, Key)] = Body

    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def head_object(self, Bucket, Key):
        if (Bucket, Key) not in self.objects:
            raise KeyError(Key)
        return {"ContentLength": len(self.objects[(Bucket, Key)])}

    def copy_object(self, Bucket, Key, CopySource):
        self.objects[(Bucket, Key)] = self.objects[(CopySource["Bucket"], CopySource["Key"])]

    def delete_object(self, Bucket, Key):
        self.objects.pop((Bucket, Key), None)


class ScriptedInvoker:
    """Answers each function from a list of outcomes (the last one repeats); records every event."""

    def __init__(self, **outcomes: list[Invocation]):
        self.outcomes = outcomes
        self.events: list[tuple[str, dict]] = []

    def invoke(self, function: str, event: dict, timeout: float = 60.0) -> Invocation:
        self.events.append((function, event))
        script = self.outcomes.get(function, [Invocation(None, None)])
        return script.pop(0) if len(script) > 1 else script[0]
