"""The web-chat pane: a native Amazon Connect web-chat customer whose chat runs through `message_processor`.

Starting a chat runs the chat-redaction flow (infra/flows/chat-redaction.json, rendered for the sandbox) the way
Connect would: its *Set message processor* block decides the processor and the failure mode. Every message of
the chat, the customer's and the agent's replies, then goes to `message_processor` in the Lambda host, with
Connect's event, before it reaches the other side (sandbox/connect/processing.py). The page's switches change
the failure mode and can make the processor fail, to show what each failure mode delivers.
"""

from __future__ import annotations

import itertools
from typing import Any

from sandbox.connect.model import ConnectModel
from sandbox.connect.processing import DELIVER, DO_NOT_DELIVER, MessageProcessing, ProcessorSettings

FUNCTION = "message_processor"
_names = itertools.count(1)


class WebChat:
    def __init__(self, model: ConnectModel, processing: MessageProcessing, region: str, account: str):
        self._model = model
        self._processing = processing
        self._region = region
        self._account = account
        self.contact_id: str | None = None
        self.flow: dict[str, Any] | None = None

    def entry_flow(self) -> tuple[ProcessorSettings | None, dict[str, Any]]:
        """The processor settings chat-redaction.json gives a new chat (run block by block), or, if the flow
        files are not there, the settings the docs recommend."""
        arn = f"arn:aws:lambda:{self._region}:{self._account}:function:{FUNCTION}"
        try:
            from infra.flow_files import load, render
            from sandbox.flow_runner import run_chat_entry

            flow = render(
                load("chat-redaction"),
                {
                    "MessageProcessorArn": arn,
                    "QueueArn": f"arn:aws:connect:{self._region}:{self._account}:instance/sandbox/queue/sandbox",
                },
                {},
            )
            run = run_chat_entry(flow)
        except Exception as exc:  # the flow runner or file missing or changed: still a working chat
            return ProcessorSettings(FUNCTION, DO_NOT_DELIVER), {"flow": None, "note": type(exc).__name__}
        settings = run.chat_processor
        if not settings or not settings.get("enabled"):
            return None, {"flow": "chat-redaction", "processor": "off"}
        mode = DELIVER if settings.get("deliver_unprocessed") else DO_NOT_DELIVER
        function = str(settings.get("lambda_arn") or arn).rsplit(":function:", 1)[-1].split(":")[0]
        return ProcessorSettings(function, mode), {"flow": "chat-redaction", "processor": "on", "failure_mode": mode}

    def start(self) -> dict[str, Any]:
        processor, self.flow = self.entry_flow()
        chat = self._model.start_web_chat(f"Web customer {next(_names)}", processor)
        self.contact_id = chat.contact_id
        return {"contact_id": chat.contact_id, "flow": self.flow}

    def customer_message(self, text: str, content_type: str = "text/plain") -> dict[str, Any]:
        chat = self._model.chat(self.contact_id) if self.contact_id is not None else None
        contact_id = chat.contact_id if chat is not None and not chat.ended else self.start()["contact_id"]
        item = self._model.web_customer_message(contact_id, text, content_type)
        return {"id": item["Id"], "metadata": item.get("MessageMetadata")}

    def set_failure(self, failure_mode: Any, broken: Any) -> dict[str, Any]:
        chat = self._model.chat(self.contact_id) if self.contact_id else None
        if failure_mode in (DELIVER, DO_NOT_DELIVER) and chat is not None and chat.processor is not None:
            chat.processor = ProcessorSettings(chat.processor.function, failure_mode)
        if isinstance(broken, bool):
            self._processing.break_processor = broken
        return self.switches()

    def switches(self) -> dict[str, Any]:
        chat = self._model.chat(self.contact_id) if self.contact_id else None
        mode = chat.processor.failure_mode if chat is not None and chat.processor is not None else None
        return {"failure_mode": mode, "broken": self._processing.break_processor}

    def view(self) -> dict[str, Any]:
        chat = self._model.chat(self.contact_id) if self.contact_id else None
        if chat is None:
            return {"contact_id": None, **self.switches(), "messages": []}
        messages = []
        for entry in chat.processing:
            mine = entry["role"] == "CUSTOMER"
            messages.append(
                {
                    "from": "customer" if mine else "agent",
                    "at": entry["at"],
                    # The customer's own screen shows what they typed; what they receive is what was delivered.
                    "text": entry["sent"] if mine else entry.get("delivered_text"),
                    "delivered_text": entry.get("delivered_text"),
                    "status": entry["status"],
                    "delivered": entry["delivered"],
                    "note": entry["note"],
                }
            )
        return {
            "contact_id": chat.contact_id,
            "ended": chat.ended,
            "flow": self.flow,
            **self.switches(),
            "messages": messages,
        }
