"""The sender: takes queued deliveries, sends them, records each attempt, retries or gives up.

It runs beside the consumer and never in its way: the consumer only queues
rows, so a slow mail server or a receiver that is down delays deliveries,
never the partition. Sends are pipelined: up to ``capacity`` in flight,
bounded per channel, their outcomes recorded in one transaction per batch.

A crash after a send and before its outcome is recorded sends it again
once the claim's hold ends: receivers get the same Message-ID or
``webhook-id``, and deduplicate by it. Nothing queued is ever dropped.
"""

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from eventkit.clock import Clock
from eventkit.db import Database
from eventkit.outbox import Cause, Emitter
from eventkit.policy import AreaPolicies
from eventkit.tasks import Loop
from schemas.events.notifications import Channel, NotificationDelivered, NotificationFailed, NotificationSent
from services.notifications import rules
from services.notifications.channels import (
    IN_FLIGHT,
    Mailer,
    Outcome,
    Webhooks,
    email_message,
    signed_headers,
    webhook_body,
)
from services.notifications.content import Content, email_body
from services.notifications.notify import Notifier, on_trace_of, status_of, trace_of
from services.notifications.policy import NotificationsPolicy
from services.notifications.storage import DELIVERED, FAILED, SENT, NotificationStore, Recipient
from services.notifications.tables import deliveries

log = logging.getLogger(__name__)
RECORD_WAIT_SECONDS = 0.02


@dataclass(frozen=True)
class Delivery:
    """One claimed delivery, with what sending it needs."""

    notification: dict[str, Any]
    channel: Channel
    attempt: int
    # The claim's hold: its outcome is recorded only while the delivery is still held by it.
    held_until: datetime
    recipient: Recipient | None
    secrets: list[str]
    policy: NotificationsPolicy


class Sender:
    def __init__(
        self,
        db: Database,
        policies: AreaPolicies[NotificationsPolicy],
        *,
        source: str,
        clock: Clock,
        tracer: Tracer,
        mailer: Mailer,
        webhooks: Webhooks,
        email_connections: int,
        hold_seconds: float = 300.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self._db = db
        self._policies = policies
        self._source = source
        self._clock = clock
        self._tracer = tracer
        self._mailer = mailer
        self._webhooks = webhooks
        # Only what can soon start is claimed: emails a few per SMTP connection (the mailer's pool makes
        # them wait their turn, well within a claim's hold), webhooks as many as may be in flight.
        self._room: dict[Channel, int] = {"email": 4 * email_connections, "webhook": IN_FLIGHT}
        self._hold = timedelta(seconds=hold_seconds)
        self._poll = poll_seconds
        self._jitter = random.Random()
        self._wake = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], Channel] = {}
        self._outcomes: asyncio.Queue[tuple[Delivery, Outcome, datetime]] = asyncio.Queue()
        self._claiming = Loop(self._claim_loop, "notification-sender")
        self._recording = Loop(self._record_loop, "notification-recorder")
        db.on_commit_of(deliveries, self.wake)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._claiming.start()
        self._recording.start()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop taking deliveries; let those in flight finish and record them."""
        await self._claiming.cancel()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace_seconds)
        with contextlib.suppress(Exception):
            await self._record_batch(self._drain())
        await self._recording.cancel()
        await self._mailer.close()
        await self._webhooks.close()

    async def run_once(self) -> int:
        """Claim what is due and can start now, and send it; returns how many were taken."""
        now = self._clock()
        held_until = now + self._hold
        async with self._db.transaction() as session:
            store = NotificationStore(session)
            claimed = []
            for channel, room in self._room.items():
                free = room - sum(1 for c in self._in_flight.values() if c == channel)
                if free > 0:
                    claimed.extend(await store.claim(channel, now, held_until, free))
            taken = await self._load(store, claimed, now, held_until) if claimed else []
        for delivery in taken:
            task = asyncio.create_task(self._send(delivery))
            self._in_flight[task] = delivery.channel
            task.add_done_callback(self._done)
        return len(taken)

    def _done(self, task: asyncio.Task[None]) -> None:
        channel = self._in_flight.pop(task, None)
        # Claim again once half the channel's room is free: one claim for many sends, not one each.
        if (
            channel is not None
            and sum(1 for c in self._in_flight.values() if c == channel) <= self._room[channel] // 2
        ):
            self._wake.set()

    async def _claim_loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                taken = await self.run_once()
            except Exception as error:
                log.warning("claiming deliveries failed (%s); will try again", type(error).__name__)
                taken = 0
            if not taken:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _load(
        self, store: NotificationStore, claimed: list[dict[str, Any]], now: datetime, held_until: datetime
    ) -> list[Delivery]:
        """What sending the claimed deliveries needs: their notifications, recipients and secrets."""
        found = await store.notifications_by_id({c["notification_id"] for c in claimed})
        entries = await store.recipients_by_id(
            {n["recipient_id"] for n in found.values() if n["recipient_id"]}
        )
        secrets = await store.secrets_of({r for r in entries if "webhook" in entries[r].channels}, now)
        taken = []
        for claim in claimed:
            n = found[claim["notification_id"]]
            recipient = entries.get(n["recipient_id"]) if n["recipient_id"] else None
            taken.append(
                Delivery(
                    notification=n,
                    channel=claim["channel"],
                    attempt=claim["attempts"] + 1,
                    held_until=held_until,
                    recipient=recipient,
                    secrets=secrets.get(recipient.recipient_id, []) if recipient else [],
                    policy=self._policies.for_area(n["area"]),
                )
            )
        return taken

    async def _send(self, delivery: Delivery) -> None:
        n = delivery.notification
        attributes = {
            "mappa.notification_id": n["notification_id"],
            "mappa.channel": delivery.channel,
            "mappa.attempt": delivery.attempt,
        }
        with self._tracer.start_as_current_span(
            f"notification {delivery.channel}",
            context=trace_of(n),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        ) as span:
            try:
                outcome = await self._deliver(delivery)
            except Exception as error:  # a bug must not lose the delivery: it is retried
                outcome = Outcome(ok=False, error=type(error).__name__[:64])
            if not outcome.ok:
                span.set_status(Status(StatusCode.ERROR, outcome.error))
        await self._outcomes.put((delivery, outcome, self._clock()))

    async def _deliver(self, delivery: Delivery) -> Outcome:
        n, recipient = delivery.notification, delivery.recipient
        policy = delivery.policy.channel(delivery.channel)
        assert policy is not None, "the inbox is delivered when queued"
        now = self._clock()
        if recipient is not None and not recipient.active:
            # The directory no longer lists them: the co-ordinator hears of it.
            return Outcome(ok=False, error="recipient-inactive", permanent=True)
        if delivery.channel == "email":
            if recipient is None or not recipient.email:
                return Outcome(ok=False, error="no-address", permanent=True)
            content = Content(n["subject"], n["action"], n["due"])
            message = email_message(
                notification_id=n["notification_id"],
                sender=delivery.policy.email_from,
                to=recipient.email,
                subject=("ESCALATED: " if n["escalated_from"] else "") + n["subject"],
                body=email_body(
                    content,
                    notification_id=n["notification_id"],
                    escalated=n["escalated_from"] is not None,
                    calendar=n["ics"] is not None,
                ),
                ics=n["ics"],
            )
            return await self._mailer.send(message, policy.timeout_seconds)
        if recipient is None or not recipient.webhook_url:
            return Outcome(ok=False, error="no-endpoint", permanent=True)
        if recipient.webhook_disabled:
            # It answered 410 Gone before, and the co-ordinator was told then: once is enough.
            return Outcome(ok=False, error="endpoint-gone", permanent=True, tell=False)
        if not delivery.secrets:
            return Outcome(ok=False, error="no-secret", permanent=True)
        body = webhook_body(n, now)
        headers = signed_headers(n["notification_id"], body, delivery.secrets, now)
        return await self._webhooks.post(recipient.webhook_url, headers, body, policy.timeout_seconds)

    async def _record_loop(self) -> None:
        while True:
            first = await self._outcomes.get()
            # A moment for the sends finishing with it: their outcomes go in one transaction.
            await asyncio.sleep(RECORD_WAIT_SECONDS)
            batch = [first, *self._drain()]
            try:
                await self._record_batch(batch)
            except Exception as error:
                # Their claims' hold ends and they are sent again: repeated, not lost.
                log.warning("recording deliveries failed (%s); they will be retried", type(error).__name__)

    def _drain(self) -> list[tuple[Delivery, Outcome, datetime]]:
        batch = []
        while not self._outcomes.empty():
            batch.append(self._outcomes.get_nowait())
        return batch

    async def _record_batch(self, batch: list[tuple[Delivery, Outcome, datetime]]) -> None:
        """In one transaction; if that fails, one by one, so that one bad outcome holds up no other."""
        if not batch:
            return
        try:
            async with self._db.transaction() as session:
                for delivery, outcome, at in batch:
                    await self._record(session, delivery, outcome, at)
            return
        except Exception:
            if len(batch) == 1:
                raise
        for one in batch:
            try:
                await self._record_batch([one])
            except Exception as error:
                # Its hold ends and it is sent again: repeated, not lost.
                log.warning("recording a delivery failed (%s); it will be retried", type(error).__name__)

    async def _record(self, session: Any, delivery: Delivery, outcome: Outcome, at: datetime) -> None:
        n, channel, attempt = delivery.notification, delivery.channel, delivery.attempt
        store = NotificationStore(session)
        retry = None
        if outcome.ok:
            status = SENT if channel == "email" else DELIVERED
        else:
            status = FAILED
            policy = delivery.policy.channel(channel)
            if not outcome.permanent and policy is not None:
                retry = rules.retry_at(policy, attempt, at, self._jitter)
        if not await store.record_attempt(
            n["notification_id"],
            channel,
            attempt=attempt,
            now=at,
            held_until=delivery.held_until,
            status=status,
            error=outcome.error,
            retry_at=retry,
        ):
            return
        if outcome.gone and delivery.recipient is not None:
            await store.disable_webhook(delivery.recipient.recipient_id)
        if retry is not None:
            return
        work = Emitter(session, self._source, Cause(n["notification_id"], "notification"))
        fields = dict(**status_of(n), channel=channel, attempts=attempt)
        with on_trace_of(n):
            if outcome.ok:
                done = NotificationSent if channel == "email" else NotificationDelivered
                await work.emit(done(**fields), key=n["platform_id"])
            else:
                await work.emit(
                    NotificationFailed(**fields, error=outcome.error or "failed"), key=n["platform_id"]
                )
                notifier = Notifier(work, self._policies, now=at)
                await notifier.delivery_failed(n, channel, attempt, outcome.error or "failed")
