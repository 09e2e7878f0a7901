"""A real local HTTP receiver for the webhook and xAPI tests (http.server in a thread)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """Answers each request with the next status of ``statuses`` (the last one repeats)."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [204])
    requests: list[Received] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)  # the fake LRS's statements by id

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        index = min(len(self.requests), len(self.statuses) - 1)
        status = self.statuses[index]
        self.requests.append(Received(method, path, headers, body, status))
        return status

    @property
    def accepted(self) -> list[Received]:
        return [request for request in self.requests if 200 <= request.status < 300]


@contextmanager
def running(receiver: Receiver, lrs: bool = False) -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (a free port) for the block. ``lrs``: behave like an xAPI LRS (PUT with
    statementId: 204, again 204 for the same statement, 409 for a different one under that id)."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            status = receiver.answer(self.command, self.path, headers, body)
            if lrs and status == 204 and "statementId=" in self.path:
                statement_id = self.path.split("statementId=", 1)[1].split("&")[0]
                statement = json.loads(body)
                if receiver.stored.get(statement_id, statement) != statement:
                    status = receiver.requests[-1].status = 409
                receiver.stored.setdefault(statement_id, statement)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def unused_local_url() -> str:
    """An address nobody listens on (a receiver that is down)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/down"
