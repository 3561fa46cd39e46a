"""A real extension for the tests: an HTTP receiver that checks code through the official SDK.

It verifies every delivery's ``X-Openworks-Signature``, acknowledges with 200, then (in a
thread, like a real extension) reads the event with GetIDEEventDetail and answers. The URL
path ``/<mode>/<extension code>`` picks the behaviour:

* ``maxpt``    FAIL (UpdateIDEEventResult) for code containing MAX_PT, OK otherwise
* ``warn``     WARN through CallbackExtension
* ``silent``   acknowledges, never answers
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .clients import TeaClient

SECRET = "receiver-test-secret"


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def message(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    endpoint: str  # the openworks server the extension calls back
    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (MessageId, result)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Openworks-Signature", "")
                ok = hmac.compare_digest(expected, given)
                delivery = Delivery(self.path, dict(self.headers.items()), body, ok)
                with receiver.lock:
                    receiver.deliveries.append(delivery)
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if ok and not self.path.startswith("/silent"):
                    threading.Thread(target=receiver.answer, args=(delivery,)).start()

            def log_message(self, *_args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def url(self, mode: str, code: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/{code}"

    def answer(self, delivery: Delivery) -> None:
        from .conftest import DEV_KEY

        message = delivery.message
        mode, _, code = delivery.path.strip("/").partition("/")
        try:
            client = TeaClient(self.endpoint, *DEV_KEY)
            detail = client.call(
                "GetIDEEventDetail", MessageId=message["id"], ProjectId=message["data"]["projectId"]
            )["EventDetail"]
            content = (detail.get("CommittedFile") or detail.get("DeletedFile") or {})["Content"]
            if mode == "warn":
                result = "WARN"
                client.call(
                    "CallbackExtension", ExtensionCode=code, MessageId=message["id"],
                    CheckResult=result, CheckMessage="looks odd but allowed",
                )  # fmt: skip
            else:
                result = "FAIL" if "MAX_PT" in content else "OK"
                tip = "MAX_PT is not allowed" if result == "FAIL" else "fine"
                client.call(
                    "UpdateIDEEventResult", MessageId=message["id"], CheckResult=result,
                    ExtensionCode=code, CheckResultTip=tip,
                )  # fmt: skip
            with self.lock:
                self.answers.append((message["id"], result))
        except Exception as err:  # recorded for the test to assert on
            with self.lock:
                self.errors.append(f"{type(err).__name__}: {err}")

    def for_message(self, message_id: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.message["id"] == message_id]
