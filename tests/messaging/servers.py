"""Local contract servers for the gateways, run in the test process on a free port.

:class:`ContractServer` is a real HTTP server (``http.server`` in a thread) that records
every request exactly as it arrived and answers as the provider would: Aliyun's
``SendSms`` (form POST, JSON ``{"Code": "OK", "BizId": …}``) and WeChat's token and
template-message endpoints. ``answers`` lets a test script failures (HTTP 500, error codes).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    body: bytes
    headers: dict[str, str]


@dataclass
class ContractServer:
    received: list[Received] = field(default_factory=list)
    #: scripted answers, used in order before the normal one: (HTTP status, JSON body)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sms(self) -> list[Received]:
        return [r for r in self.received if r.form.get("Action") == "SendSms"]

    def answer(self, request: Received) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.received.append(request)
            if self.answers:
                return self.answers.pop(0)
            count = len(self.received)
        if request.path == "/cgi-bin/token":
            return 200, {"access_token": "TOKEN-1", "expires_in": 7200}
        if request.path == "/cgi-bin/message/template/send":
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200000 + count}
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": f"BIZ{count:06d}",
            "RequestId": f"REQ{count}",
        }


def _handler(server: ContractServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            form: dict[str, str] = {}
            if "form-urlencoded" in (self.headers.get("Content-Type") or ""):
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
            request = Received(
                method=self.command,
                path=parts.path,
                query={k: v[0] for k, v in parse_qs(parts.query).items()},
                form=form,
                body=body,
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            status, payload = server.answer(request)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle  # noqa: N815 - http.server names its handlers so
        do_POST = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def contract_server() -> Iterator[ContractServer]:
    server = ContractServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port; what arrives is parsed and kept."""
    import socket
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Keep:
        async def handle_DATA(  # noqa: N802 - aiosmtpd names the hook so
            self, server: Any, session: Any, envelope: Any
        ) -> str:
            mail = message_from_bytes(envelope.original_content, policy=policy.default)
            box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
