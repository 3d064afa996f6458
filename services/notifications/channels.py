"""The wire to recipients: email over SMTP (aiosmtplib) and Standard Webhooks over HTTP (httpx).

Each send answers with an ``Outcome``: done, worth another try later, or
refused for good. The idempotency key a receiver deduplicates by is the
notification id: the email's Message-ID and the webhook's ``webhook-id``.
"""

import asyncio
import email.policy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib
import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from standardwebhooks import Webhook

MESSAGE_ID_DOMAIN = "notifications.mappa"
WEBHOOK_TYPE = "uk.mappa.notification.v1"
# Webhooks in flight at once, across endpoints.
IN_FLIGHT = 32


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    # Refused for good (an SMTP 5xx, a webhook's 410 Gone): no retry.
    permanent: bool = False
    gone: bool = False
    # Whether the co-ordinator is told when it ends failed.
    tell: bool = True


DONE = Outcome(ok=True)


class SmtpSettings(BaseSettings):
    """``MAPPA_NOTIFICATIONS_SMTP_HOST`` etc.: the relay that takes the platform's email."""

    model_config = SettingsConfigDict(env_prefix="MAPPA_NOTIFICATIONS_SMTP_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8025
    # STARTTLS after connecting (submission, port 587), or TLS from the start (port 465).
    starttls: bool = False
    tls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    # Connections kept open to the relay: emails in flight at once.
    connections: int = 4


# The standard library's older MIME classes build a message in half the time of EmailMessage, and
# lines up to RFC 5322's 998 characters keep a subject from starting on a folded line of its own.
_WIRE = email.policy.compat32.clone(linesep="\r\n", max_line_length=998)


def email_message(
    *, notification_id: str, sender: str, to: str, subject: str, body: str, ics: str | None
) -> Message:
    message: Message = MIMEText(body, "plain", "utf-8")
    if ics is not None:
        method = "CANCEL" if "METHOD:CANCEL" in ics else "REQUEST"
        calendar = MIMEText(ics, "calendar", "utf-8")
        calendar.set_param("method", method)
        calendar.add_header("Content-Disposition", "attachment", filename="meeting.ics")
        message = MIMEMultipart("mixed", _subparts=[message, calendar])
    message["Message-ID"] = f"<{notification_id}@{MESSAGE_ID_DOMAIN}>"
    message["Date"] = formatdate(usegmt=True)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    return message


class Mailer:
    """A few SMTP connections kept open and reused; a broken one is replaced on its next use."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for _ in range(settings.connections):
            self._idle.put_nowait(self._client())

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.tls,
            start_tls=s.starttls,
            username=s.username,
            password=s.password.get_secret_value() if s.password else None,
        )

    async def send(self, message: Message, timeout_seconds: float) -> Outcome:
        timeout = timeout_seconds
        # Flattened here: aiosmtplib's own policy would fold the subject at 78 characters.
        raw = message.as_bytes(policy=_WIRE)
        sender, to = parseaddr(str(message["From"]))[1], [parseaddr(str(message["To"]))[1]]
        client = await self._idle.get()
        try:
            try:
                reused = client.is_connected
                if not reused:
                    await client.connect(timeout=timeout)
                await client.sendmail(sender, to, raw, timeout=timeout)
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The relay closed an idle connection: once more on a fresh one.
                client.close()
                await client.connect(timeout=timeout)
                await client.sendmail(sender, to, raw, timeout=timeout)
            return DONE
        except aiosmtplib.SMTPRecipientsRefused as error:
            client.close()
            codes = [refused.code for refused in error.recipients]
            return Outcome(ok=False, error=f"smtp-{codes[0]}", permanent=all(500 <= c < 600 for c in codes))
        except (
            aiosmtplib.SMTPRecipientRefused,
            aiosmtplib.SMTPSenderRefused,
            aiosmtplib.SMTPDataError,
        ) as error:
            # Refused for this message: a 5xx will not change on a retry.
            client.close()
            return Outcome(ok=False, error=f"smtp-{error.code}", permanent=500 <= error.code < 600)
        except aiosmtplib.SMTPResponseException as error:
            # Authentication, HELO, the connection: the relay's trouble, not this message's.
            client.close()
            return Outcome(ok=False, error=f"smtp-{error.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            client.close()
            return Outcome(ok=False, error=_error_class(error))
        finally:
            self._idle.put_nowait(client)

    async def close(self) -> None:
        while not self._idle.empty():
            client = self._idle.get_nowait()
            if client.is_connected:
                client.close()


def webhook_body(notification: dict[str, Any], now: datetime) -> bytes:
    """The Standard Webhooks payload: type, timestamp and the notification's minimal content."""
    data = {
        "notification_id": notification["notification_id"],
        "platform_id": notification["platform_id"],
        "kind": notification["kind"],
        "urgent": notification["urgent"],
        "escalated": notification["escalated_from"] is not None,
        "recipient_role": notification["role"],
        "subject": notification["subject"],
        "action": notification["action"],
        "due": notification["due"],
        "ics": notification["ics"],
    }
    payload = {"type": WEBHOOK_TYPE, "timestamp": now.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(message_id: str, body: bytes, secrets: list[str], now: datetime) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and one ``v1,`` signature per live secret (rotation)."""
    moment = now.astimezone(UTC)
    text = body.decode()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(Webhook(s).sign(message_id, moment, text) for s in secrets),
        "content-type": "application/json",
    }


class Webhooks:
    def __init__(self) -> None:
        # Redirects are not followed: a signed body goes only where the directory says. Connections
        # are kept for as many webhooks as may be in flight (httpx keeps 20 by default).
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT),
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes, timeout_seconds: float) -> Outcome:
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=timeout_seconds)
        except httpx.HTTPError as error:
            return Outcome(ok=False, error=_error_class(error))
        if 200 <= response.status_code < 300:
            return DONE
        gone = response.status_code == 410
        return Outcome(ok=False, error=f"http-{response.status_code}", permanent=gone, gone=gone)

    async def close(self) -> None:
        await self._client.aclose()


def _error_class(error: BaseException) -> str:
    """The error's kind, never its message (which may quote an address)."""
    name = type(error).__name__
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")[:64]
