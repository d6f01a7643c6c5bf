"""Chat streaming: every transcript item reaches `connect_stream_handler` as an SNS notification.

Connect publishes each item to the contact's streaming topic; SNS invokes the subscribed Lambda
asynchronously, and Lambda retries a failed invocation twice before dropping it (docs/reference/connect-chat.md).
Deliveries run in order on one worker thread, so the app sees a chat's items in the order they
happened, and slow handlers never block the API calls that produced the items.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.lambdas import Invoker
from sandbox.resources import ACCOUNT_ID

FUNCTION = "connect_stream_handler"
RETRY_DELAYS = (0.5, 1.0)  # Lambda's async retries, compressed (real: ~1 min, then ~2 min)


def sns_event(topic_arn: str, instance_id: str, item: dict) -> dict:
    """The Lambda event SNS builds for one Connect streaming message (docs/reference/connect-chat.md)."""
    attributes = {
        "InitialContactId": item["InitialContactId"],
        "ContactId": item["ContactId"],
        "ParticipantRole": item["ParticipantRole"],
        "InstanceId": instance_id,
        "AccountId": ACCOUNT_ID,
        "Type": "EVENT" if item["Type"] == "EVENT" else "MESSAGE",
        "ContentType": item["ContentType"],
        "MessageVisibility": "ALL",
    }
    message_id = str(uuid.uuid4())
    subscription = f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, topic_arn + FUNCTION)}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(item),
                    "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "SignatureVersion": "1",
                    "Signature": "c2FuZGJveA==",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-sandbox.pem",
                    "UnsubscribeUrl": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}",
                    "MessageAttributes": {
                        name: {"Type": "String", "Value": value} for name, value in attributes.items()
                    },
                },
            }
        ]
    }


@dataclass
class Delivery:
    item_id: str
    contact_id: str
    item_type: str
    content_type: str
    status: str = "QUEUED"  # QUEUED | DELIVERED | FAILED | NOT_SUBSCRIBED
    attempts: int = 0
    error: str | None = None
    finished_at: float = field(default=0.0)


class StreamDelivery:
    """Ordered, retried delivery of streaming messages to the subscribed handler."""

    def __init__(self, invoker: Invoker, subscribed_topic: str, instance_id: str):
        self._invoker = invoker
        self._subscribed_topic = subscribed_topic
        self._instance_id = instance_id
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self._events: dict[str, tuple[str, dict]] = {}  # item id -> its notification, for redelivery
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._worker = threading.Thread(target=self._run, name="sns-delivery", daemon=True)
        self._worker.start()

    def publish(self, topic_arn: str, item: dict) -> None:
        event = sns_event(topic_arn, self._instance_id, item)
        with self._lock:
            self._events[item["Id"]] = (topic_arn, event)
        self._enqueue(topic_arn, item, event)

    def redeliver(self, item_id: str) -> bool:
        """Deliver an item's notification again, unchanged: SNS delivers at least once."""
        with self._lock:
            found = self._events.get(item_id)
        if found is None:
            return False
        topic_arn, event = found
        self._enqueue(topic_arn, json.loads(event["Records"][0]["Sns"]["Message"]), event)
        return True

    def _enqueue(self, topic_arn: str, item: dict, event: dict) -> None:
        delivery = Delivery(item["Id"], item["InitialContactId"], item["Type"], item["ContentType"])
        with self._lock:
            self.deliveries.append(delivery)
            self._pending += 1
        self._queue.put((topic_arn, event, delivery))

    def wait_idle(self, timeout: float) -> bool:
        """True once every published item has been delivered or given up on."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            topic_arn, event, delivery = self._queue.get()
            try:
                self._deliver(topic_arn, event, delivery)
            finally:
                with self._idle:
                    self._pending -= 1
                    delivery.finished_at = time.time()
                    self._idle.notify_all()

    def _deliver(self, topic_arn: str, event: dict, delivery: Delivery) -> None:
        if topic_arn != self._subscribed_topic:  # only the stage's topic has the handler subscribed
            delivery.status = "NOT_SUBSCRIBED"
            return
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            delivery.attempts += 1
            outcome = self._invoker.invoke(FUNCTION, event)
            if outcome.ok:
                delivery.status, delivery.error = "DELIVERED", None
                return
            delivery.error = outcome.error
        delivery.status = "FAILED"
