"""The dev inbox: a local SMTP sink and a web page listing and showing what it received, so
`make run` shows the emails notifications sends without installing anything.

With ATIENDE_DEV_INBOX=true (what `make run` sets) notifications runs it beside its dispatcher,
listening on its own ATIENDE_SMTP_HOST/PORT; or on its own:

    python -m atiende_notifications.entrypoints.devinbox   # SMTP :1025, page :8025

aiosmtpd (already the test suite's SMTP server) receives; the standard library's HTTP server
serves the page. It keeps the last 500 messages in memory, binds to 127.0.0.1 only, and is a
development tool: nothing in the service imports it. Ports: ATIENDE_DEVINBOX_SMTP_PORT,
ATIENDE_DEVINBOX_HTTP_PORT.
"""

from __future__ import annotations

import html
import json
import os
import signal
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    number: int
    at: datetime
    message: EmailMessage

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))

    def body(self, subtype: str) -> str | None:
        part = self.message.get_body((subtype,))
        return None if part is None else str(part.get_content())


class Inbox:
    def __init__(self, keep: int = 500) -> None:
        self._lock = threading.Lock()
        self._messages: deque[Received] = deque(maxlen=keep)
        self._count = 0

    def add(self, raw: bytes) -> None:
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._count += 1
            self._messages.appendleft(Received(self._count, datetime.now(UTC), message))

    def all(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def get(self, number: int) -> Received | None:
        return next((m for m in self.all() if m.number == number), None)


class _SmtpHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.add(envelope.original_content or envelope.content)
        return "250 OK: kept in the dev inbox"


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}"
    "table{border-collapse:collapse;width:100%}td,th{padding:.4rem .6rem;"
    "border-bottom:1px solid #ddd;text-align:left}pre{white-space:pre-wrap;background:#f6f7f9;"
    "padding:1rem}iframe{width:100%;height:32rem;border:1px solid #ddd}"
)


def _page(title: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f'</title><meta http-equiv="refresh" content="{5 if title == "Dev inbox" else 600}">'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Page(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: honcho's console is for the services."""

        def _send(self, status: int, content: bytes, content_type: str, csp: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(content)

        def do_GET(self) -> None:
            csp = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            if not parts:
                rows = "".join(
                    f"<tr><td>{m.at:%H:%M:%S}</td><td>{html.escape(m.header('To'))}</td>"
                    f'<td><a href="/m/{m.number}">{html.escape(m.header("Subject"))}</a></td></tr>'
                    for m in inbox.all()
                )
                empty = "" if rows else "<p id=empty>No messages yet.</p>"
                body = (
                    "<h1>Dev inbox</h1><table id=messages><tr><th>Time</th><th>To</th>"
                    f"<th>Subject</th></tr>{rows}</table>{empty}"
                )
                return self._send(200, _page("Dev inbox", body), "text/html; charset=utf-8", csp)
            if parts == ["messages.json"]:
                data = [
                    {"number": m.number, "to": m.header("To"), "subject": m.header("Subject")}
                    for m in inbox.all()
                ]
                return self._send(200, json.dumps(data).encode(), "application/json", csp)
            if len(parts) in (2, 3) and parts[0] == "m" and parts[1].isdigit():
                found = inbox.get(int(parts[1]))
                if found is not None and len(parts) == 3 and parts[2] == "html":
                    # the email's own HTML, sandboxed: no scripts, no requests out
                    content = (found.body("html") or "").encode()
                    sandbox = (
                        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
                    )
                    return self._send(200, content, "text/html; charset=utf-8", sandbox)
                if found is not None and len(parts) == 2:
                    headers = "".join(
                        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in found.message.items()
                    )
                    frame = (
                        f'<h2>HTML</h2><iframe src="/m/{found.number}/html" sandbox></iframe>'
                        if found.body("html")
                        else ""
                    )
                    body = (
                        f'<p><a href="/">← all messages</a></p><h1 id=subject>'
                        f"{html.escape(found.header('Subject'))}</h1><table>{headers}</table>"
                        f"<h2>Text</h2><pre id=text>{html.escape(found.body('plain') or '')}</pre>"
                        f"{frame}"
                    )
                    return self._send(
                        200, _page(found.header("Subject"), body), "text/html; charset=utf-8", csp
                    )
            return self._send(404, _page("Not found", "<p>Not found</p>"), "text/html", csp)

    return Page


class DevInbox:
    """The dev inbox as one of the service's workers (start/stop)."""

    def __init__(self, host: str, smtp_port: int, http_port: int) -> None:
        self.host, self.smtp_port, self.http_port = host, smtp_port, http_port
        self.inbox = Inbox()
        self._smtp: Controller | None = None
        self._web: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}/"

    async def start(self) -> None:
        self._smtp = Controller(_SmtpHandler(self.inbox), hostname=self.host, port=self.smtp_port)
        self._smtp.start()
        self._web = ThreadingHTTPServer((self.host, self.http_port), _handler(self.inbox))
        threading.Thread(target=self._web.serve_forever, daemon=True).start()
        print(f"Dev inbox: {self.url}  (SMTP {self.host}:{self.smtp_port})", flush=True)

    async def stop(self) -> None:
        if self._web is not None:
            self._web.shutdown()
            self._web.server_close()
        if self._smtp is not None:
            self._smtp.stop()


def main() -> None:
    host = os.environ.get("ATIENDE_DEVINBOX_HOST", "127.0.0.1")
    smtp_port = int(os.environ.get("ATIENDE_DEVINBOX_SMTP_PORT", "1025"))
    http_port = int(os.environ.get("ATIENDE_DEVINBOX_HTTP_PORT", "8025"))
    inbox = Inbox()
    smtp = Controller(_SmtpHandler(inbox), hostname=host, port=smtp_port)
    smtp.start()
    web = ThreadingHTTPServer((host, http_port), _handler(inbox))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=web.serve_forever, daemon=True).start()
    print(f"Dev inbox: http://{host}:{http_port}/  (SMTP {host}:{smtp_port})", flush=True)
    stop.wait()
    web.shutdown()
    smtp.stop()


if __name__ == "__main__":
    main()
