"""Local receivers for what notifications sends: an SMTP server (aiosmtpd) and a Standard Webhooks endpoint.

For the demo, the tests and the benchmark: real servers on local ports.
The webhook receiver verifies every request's signature (``standardwebhooks``)
against the secrets it is given and deduplicates by ``webhook-id``, as an
agency system should; it can be told to fail, to test retries.

    python -m deploy.receivers --smtp-port 8025 --webhook-port 8026
"""

import argparse
import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    at: float
    message_id: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class MailSink:
    """An SMTP server that keeps every message it accepts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.port = port or _free_port(host)
        self.controller = Controller(self, hostname=host, port=self.port)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            self.received.append(Received(time.monotonic(), str(message["Message-ID"]), raw))
        return "250 Message accepted for delivery"

    def start(self) -> "MailSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class _Server(ThreadingHTTPServer):
    # Many senders connect at once: the default backlog of 5 would reset the rest.
    request_queue_size = 256
    daemon_threads = True


def _free_port(host: str) -> int:
    # aiosmtpd checks its server by connecting to the port it was given: it needs a real one.
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class WebhookReceiver:
    """An agency system's endpoint: verifies signatures, accepts each ``webhook-id`` once.

    ``answer`` picks the status for each request (after verification), e.g. to fail twice first.
    """

    def __init__(self, secrets: list[str] | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secrets = list(secrets or [])
        self.accepted: dict[str, Received] = {}
        self.requests = 0
        self.refused_signatures = 0
        self.answer: Callable[[int], int] = lambda attempt: 200
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(receiver.receive(body, dict(self.headers.items())))
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests read what was received

        self.server = _Server((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/mappa"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests += 1
            if not any(self._verifies(secret, body, headers) for secret in self.secrets):
                self.refused_signatures += 1
                return 401
            message_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
            attempt = self._attempts[message_id] = self._attempts.get(message_id, 0) + 1
            status = self.answer(attempt)
            if 200 <= status < 300:
                # A repeat of an accepted id is acknowledged and not applied again.
                self.accepted.setdefault(message_id, Received(time.monotonic(), message_id, body, headers))
            return status

    @staticmethod
    def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError:
            return False
        return True

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--webhook-port", type=int, default=8026)
    parser.add_argument("--webhook-secret", action="append", default=[], help="whsec_… (repeatable)")
    args = parser.parse_args()
    mail = MailSink(port=args.smtp_port).start()
    hooks = WebhookReceiver(args.webhook_secret, port=args.webhook_port).start()
    print(f"SMTP on 127.0.0.1:{args.smtp_port}; webhooks at {hooks.url}", flush=True)
    try:
        seen = 0
        while True:
            time.sleep(1)
            for message in mail.messages[seen:]:
                print(f"mail {message['Message-ID']} to {message['To']}: {message['Subject']}", flush=True)
            seen = len(mail.messages)
    except KeyboardInterrupt:
        pass
    finally:
        hooks.stop()
        mail.stop()


if __name__ == "__main__":
    main()
