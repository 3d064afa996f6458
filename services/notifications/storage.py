"""Notification storage: cases and meetings as published, the directory, notifications, deliveries."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.propagate import inject
from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import count_up, insert_if_new, once_at_commit, stage, upsert, utc
from schemas.agencies import Agency, Role
from schemas.events.notifications import Channel
from services.notifications import rules
from services.notifications.tables import (
    attempts,
    cases,
    deliveries,
    directory_version,
    meetings,
    notifications,
    recipients,
    waiting,
    webhook_secrets,
)

# Delivery statuses: queued until sent (email: the SMTP server accepted it), delivered (a webhook's
# 2xx, or in the inbox) or failed (gave up).
QUEUED, SENT, DELIVERED, FAILED = "queued", "sent", "delivered", "failed"
# Built once: building a statement costs more than running it (as in eventkit.db).
_CASE_FACTS = ("area", "lead_agency", "offender_manager")
_CASE = select(cases).where(cases.c.platform_id == bindparam("platform_id"))
_WAITING_FOR = select(waiting).where(waiting.c.platform_id == bindparam("platform_id")).order_by(waiting.c.id)
_WAITING_SINCE = select(waiting).where(waiting.c.since <= bindparam("since")).order_by(waiting.c.id)
_TAKEN = delete(waiting).where(waiting.c.id.in_(bindparam("ids", expanding=True)))
# A case whose waiting events were all taken waits no more (a newer one of its may still wait).
_WAITS_NO_MORE = (
    update(cases)
    .where(cases.c.platform_id.in_(bindparam("ids", expanding=True)))
    .values(waiting=exists().where(waiting.c.platform_id == cases.c.platform_id))
)
_MEETING = select(meetings).where(meetings.c.meeting_id == bindparam("meeting_id"))
# What the sender runs for every delivery, built once too (an update's own bind names may not be
# its columns': hence ``b_``).
_DUE = (
    select(deliveries.c.notification_id, deliveries.c.channel)
    .where(
        deliveries.c.status == QUEUED,
        deliveries.c.channel == bindparam("b_channel"),
        deliveries.c.next_attempt_at <= bindparam("b_now"),
    )
    .order_by(deliveries.c.next_attempt_at)
    .limit(bindparam("b_limit"))
)
# One statement: a row another sender moved on meanwhile no longer matches, and is not taken.
_CLAIM = (
    update(deliveries)
    .where(
        tuple_(deliveries.c.notification_id, deliveries.c.channel).in_(_DUE),
        deliveries.c.status == QUEUED,
        deliveries.c.next_attempt_at <= bindparam("b_now"),
    )
    .values(next_attempt_at=bindparam("b_held_until"))
    .returning(deliveries.c.notification_id, deliveries.c.channel, deliveries.c.attempts)
)
_NOTIFICATIONS = select(notifications).where(
    notifications.c.notification_id.in_(bindparam("ids", expanding=True))
)
_RECIPIENTS = select(recipients).where(recipients.c.recipient_id.in_(bindparam("ids", expanding=True)))
_SECRETS = (
    select(webhook_secrets.c.recipient_id, webhook_secrets.c.secret)
    .where(
        webhook_secrets.c.recipient_id.in_(bindparam("ids", expanding=True)),
        or_(webhook_secrets.c.retires_at.is_(None), webhook_secrets.c.retires_at > bindparam("b_now")),
    )
    .order_by(webhook_secrets.c.id.desc())
)
# An outcome, recorded only while its claim still holds the delivery.
_RECORD = (
    update(deliveries)
    .where(
        deliveries.c.notification_id == bindparam("b_notification_id"),
        deliveries.c.channel == bindparam("b_channel"),
        deliveries.c.status == QUEUED,
        deliveries.c.attempts == bindparam("b_previous"),
        deliveries.c.next_attempt_at == bindparam("b_held_until"),
    )
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempt"),
        next_attempt_at=bindparam("b_next_at"),
        error=bindparam("b_error"),
        updated_at=bindparam("b_now"),
    )
)
_DIRECTORY_VERSION = select(directory_version.c.version)
_FIRST = {"id": 1, "version": 1}
# Directory lookups, remembered on the connection while the directory's version stays the same,
# and cases, remembered for one transaction (``Session.info`` is cleared as it ends).
_DIRECTORY = "notifications.directory"
_CASES = "notifications.cases"
_IDS = uuid.UUID("6d617070-612d-6e6f-7469-666963617465")


def notification_id(cause_id: str, recipient_key: str, kind: str) -> str:
    """The same for the same cause, recipient and kind: a redelivered cause makes no second notification."""
    return str(uuid.uuid5(_IDS, f"{cause_id}\x1f{recipient_key}\x1f{kind}"))


@dataclass(frozen=True)
class Recipient:
    recipient_id: str
    area: str
    role: Role
    agency: Agency | None
    staff_ref: str | None
    channels: tuple[str, ...]
    email: str | None
    webhook_url: str | None
    webhook_disabled: bool
    active: bool
    source: str

    @property
    def sending(self) -> list[Channel]:
        """The channels besides the inbox that can take a notification now."""
        usable: list[Channel] = []
        for channel in self.channels:
            if channel == "email" and self.email:
                usable.append("email")
            elif channel == "webhook" and self.webhook_url and not self.webhook_disabled:
                usable.append("webhook")
        return usable


def _recipient(row: Any) -> Recipient:
    values = dict(row._mapping)
    values["role"] = Role(values["role"])
    values["agency"] = Agency(values["agency"]) if values["agency"] else None
    values["channels"] = tuple(values["channels"])
    values.pop("updated_at")
    return Recipient(**values)


class NotificationStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- what the platform says of cases and meetings -------------------------------

    async def case(self, platform_id: str) -> rules.Case:
        """The case as the register last said, remembered for the transaction (a batch often brings
        several events of one case)."""
        known: dict[str, rules.Case] = self._session.info.setdefault(_CASES, {})
        if platform_id not in known:
            row = (await self._session.execute(_CASE, {"platform_id": platform_id})).first()
            known[platform_id] = rules.Case(area=None) if row is None else _case(row)
        return known[platform_id]

    async def set_case(self, platform_id: str, **values: Any) -> tuple[rules.Case, bool]:
        """Record what the register said of the case; returns the case as it now stands, and whether
        events wait for its area."""
        # The upsert hands back the row: a handler needs no second statement to read it.
        statement = upsert(self._session, cases, tuple(values), returning=(*_CASE_FACTS, "waiting"))
        row = (await self._session.execute(statement, {"platform_id": platform_id, **values})).one()
        case = self._session.info.setdefault(_CASES, {})[platform_id] = _case(row)
        return case, row.waiting

    async def meeting(self, meeting_id: str) -> rules.Meeting | None:
        row = (await self._session.execute(_MEETING, {"meeting_id": meeting_id})).first()
        if row is None:
            return None
        return rules.Meeting(Role(row.chair_role), tuple(Agency(a) for a in row.agencies))

    async def set_meeting(self, meeting_id: str, chair_role: Role, agencies: Sequence[Agency]) -> None:
        await self._session.execute(
            upsert(self._session, meetings, ("chair_role", "agencies")),
            {"meeting_id": meeting_id, "chair_role": str(chair_role), "agencies": [str(a) for a in agencies]},
        )

    async def wait(
        self, platform_id: str, event_type: str, payload: str, cause_id: str, now: datetime
    ) -> None:
        """Keep an event until the case's area is known (with the trace it came on)."""
        carrier: dict[str, str] = {}
        inject(carrier)
        await self._session.execute(
            waiting.insert(),
            dict(platform_id=platform_id, event_type=event_type, payload=payload, cause_id=cause_id,
                 traceparent=carrier.get("traceparent"), tracestate=carrier.get("tracestate"), since=now),
        )  # fmt: skip
        await self._session.execute(
            upsert(self._session, cases, ("waiting",)), {"platform_id": platform_id, "waiting": True}
        )

    async def waiting_for(
        self, platform_id: str | None = None, *, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The case's waiting events (or every case's waiting since before ``since``), oldest first, taken."""
        query = _WAITING_FOR if platform_id else _WAITING_SINCE
        found = await self._session.execute(query, {"platform_id": platform_id, "since": since})
        rows = [dict(row._mapping) for row in found]
        if rows:
            await self._session.execute(_TAKEN, {"ids": [r["id"] for r in rows]})
            await self._session.execute(_WAITS_NO_MORE, {"ids": list({r["platform_id"] for r in rows})})
        return rows

    # --- the directory ---------------------------------------------------------------

    async def recipients_for(self, area: str, who: rules.Addressee) -> list[Recipient]:
        """Active directory entries for an addressee: the person, or the role's entries in the area.

        Remembered until the directory changes (every batch asks for the same roles again and again):
        a transaction reads the directory's version once, and a change to it forgets them all.
        """
        known = await self._remembered()
        if (area, who) not in known:
            known[area, who] = await self._recipients_for(area, who)
        return known[area, who]

    async def _remembered(self) -> dict[tuple[str, rules.Addressee], list[Recipient]]:
        known: dict[tuple[str, rules.Addressee], list[Recipient]] | None = self._session.info.get(_DIRECTORY)
        if known is None:
            version = await self._session.scalar(_DIRECTORY_VERSION) or 0
            # The connection's info lasts as long as the database connection, past this transaction.
            kept = (await self._session.connection()).info
            if kept.get(_DIRECTORY, (None,))[0] != version:
                kept[_DIRECTORY] = (version, {})
            known = self._session.info[_DIRECTORY] = kept[_DIRECTORY][1]
        return known

    async def _directory_changed(self) -> None:
        # Counted up as the transaction commits: the counter's row is locked for the commit alone.
        once_at_commit(self._session, count_up(self._session, directory_version, "version"), _FIRST)
        # Lookups from here on see this uncommitted change: they are kept for this transaction only,
        # and what the connection kept is forgotten, in case the change is rolled back.
        (await self._session.connection()).info.pop(_DIRECTORY, None)
        self._session.info[_DIRECTORY] = {}

    async def _recipients_for(self, area: str, who: rules.Addressee) -> list[Recipient]:
        query = select(recipients).where(recipients.c.active)
        if who.staff_ref is not None:
            query = query.where(recipients.c.staff_ref == who.staff_ref)
        else:
            query = query.where(recipients.c.area == area, recipients.c.role == str(who.role))
            if who.agency is not None:
                query = query.where(recipients.c.agency == str(who.agency))
            if who.role is Role.OFFENDER_MANAGER:
                # A lead agency's offender managers as a team: its shared entries, not every person.
                query = query.where(recipients.c.staff_ref.is_(None))
        rows = await self._session.execute(query.order_by(recipients.c.recipient_id))
        return [_recipient(row) for row in rows]

    async def recipient(self, recipient_id: str) -> Recipient | None:
        row = (
            await self._session.execute(select(recipients).where(recipients.c.recipient_id == recipient_id))
        ).first()
        return _recipient(row) if row else None

    async def by_staff_ref(self, staff_ref: str) -> Recipient | None:
        row = (
            await self._session.execute(select(recipients).where(recipients.c.staff_ref == staff_ref))
        ).first()
        return _recipient(row) if row else None

    async def directory(self, area: str, role: Role | None) -> list[Recipient]:
        query = select(recipients).where(recipients.c.area == area)
        if role is not None:
            query = query.where(recipients.c.role == str(role))
        rows = await self._session.execute(query.order_by(recipients.c.role, recipients.c.recipient_id))
        return [_recipient(row) for row in rows]

    async def put_recipient(self, recipient: Recipient, now: datetime) -> None:
        values = {
            **vars(recipient),
            "role": str(recipient.role),
            "agency": str(recipient.agency) if recipient.agency else None,
            "channels": list(recipient.channels),
            "updated_at": now,
        }
        updated = tuple(k for k in values if k != "recipient_id")
        await self._session.execute(upsert(self._session, recipients, updated), values)
        await self._directory_changed()

    async def allocated(self, staff_ref: str, area: str, agency: Agency | None, now: datetime) -> None:
        """An agency allocated this offender manager: known from now on, in the inbox at least.

        An entry an operator keeps is left as the operator set it.
        """
        added = await self._session.execute(
            insert_if_new(self._session, recipients),
            dict(
                recipient_id=str(uuid.uuid4()),
                area=area,
                role=str(Role.OFFENDER_MANAGER),
                agency=str(agency) if agency else None,
                staff_ref=staff_ref,
                channels=[],
                email=None,
                webhook_url=None,
                webhook_disabled=False,
                active=True,
                source="offender-manager-allocated",
                updated_at=now,
            ),
        )
        if added.rowcount == 1:  # type: ignore[attr-defined]
            await self._directory_changed()

    async def disable_webhook(self, recipient_id: str) -> None:
        await self._session.execute(
            update(recipients).where(recipients.c.recipient_id == recipient_id).values(webhook_disabled=True)
        )
        await self._directory_changed()

    async def add_secret(self, recipient_id: str, secret: str, now: datetime, overlap: timedelta) -> None:
        """A new signing secret; the ones before it keep signing for ``overlap``, then retire."""
        await self._session.execute(
            update(webhook_secrets)
            .where(webhook_secrets.c.recipient_id == recipient_id, webhook_secrets.c.retires_at.is_(None))
            .values(retires_at=now + overlap)
        )
        await self._session.execute(
            webhook_secrets.insert(), dict(recipient_id=recipient_id, secret=secret, created_at=now)
        )

    # --- notifications ---------------------------------------------------------------

    async def add(self, row: dict[str, Any]) -> bool:
        """Record a notification; False if it was made before (the same cause, recipient and kind)."""
        result = await self._session.execute(insert_if_new(self._session, notifications), row)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def queue(self, notification_id: str, channels: Sequence[Channel], now: datetime) -> None:
        """Its deliveries on the channels that send; the inbox needs no row (it is there already)."""
        for channel in channels:
            if channel != "inbox":
                stage(
                    self._session,
                    deliveries,
                    dict(notification_id=notification_id, channel=channel, status=QUEUED, attempts=0,
                         next_attempt_at=now, error=None, updated_at=now),
                )  # fmt: skip

    async def notification(self, notification_id: str) -> dict[str, Any] | None:
        row = (
            await self._session.execute(
                select(notifications).where(notifications.c.notification_id == notification_id)
            )
        ).first()
        return _times(dict(row._mapping)) if row else None

    async def deliveries_of(self, notification_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(deliveries)
            .where(deliveries.c.notification_id == notification_id)
            .order_by(deliveries.c.channel)
        )
        return [_times(dict(row._mapping)) for row in rows]

    async def attempts_of(self, notification_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(attempts).where(attempts.c.notification_id == notification_id).order_by(attempts.c.id)
        )
        return [_times(dict(row._mapping)) for row in rows]

    async def inbox(
        self,
        *,
        staff_ref: str,
        area: str,
        role: Role,
        agency: Agency,
        unplaced: bool,
        unread: bool,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        """A person's notifications and their area role's shared ones (for their agency), newest first;
        with ``unplaced``, also the role's for cases in no area yet."""
        in_area = notifications.c.area == area
        shared = and_(
            notifications.c.staff_ref.is_(None),
            or_(in_area, notifications.c.area.is_(None)) if unplaced else in_area,
            notifications.c.role == str(role),
            or_(notifications.c.agency.is_(None), notifications.c.agency == str(agency)),
        )
        query = select(notifications).where(or_(notifications.c.staff_ref == staff_ref, shared))
        if unread:
            query = query.where(notifications.c.acknowledged_at.is_(None))
        rows = await self._session.execute(
            query.order_by(notifications.c.created_at.desc(), notifications.c.notification_id)
            .limit(limit)
            .offset(offset)
        )
        return [_times(dict(row._mapping)) for row in rows]

    async def acknowledge(self, notification_id: str, by: str, now: datetime) -> bool:
        """Mark it read; False if it was acknowledged before."""
        result = await self._session.execute(
            update(notifications)
            .where(
                notifications.c.notification_id == notification_id, notifications.c.acknowledged_at.is_(None)
            )
            .values(acknowledged_at=now, acknowledged_by=by)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def troubled(self, area: str, *, status: str, limit: int, offset: int) -> list[dict[str, Any]]:
        """The area's notifications with a failed delivery, still unacknowledged, or redirected to the
        co-ordinator for want of their recipient; oldest first."""
        if status == "redirected":
            query = select(notifications).where(notifications.c.redirected.is_not(None))
        elif status == FAILED:
            query = select(notifications).where(
                notifications.c.notification_id.in_(
                    select(deliveries.c.notification_id).where(deliveries.c.status == FAILED)
                )
            )
        else:
            query = select(notifications).where(notifications.c.acknowledged_at.is_(None))
        rows = await self._session.execute(
            query.where(notifications.c.area == area)
            .order_by(notifications.c.created_at, notifications.c.notification_id)
            .limit(limit)
            .offset(offset)
        )
        return [_times(dict(row._mapping)) for row in rows]

    async def escalations_due(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Notifications due to escalate whose copies to others (same cause and kind) nobody acknowledged."""
        rows = await self._session.execute(
            select(notifications)
            .where(
                notifications.c.escalate_at <= now, notifications.c.acknowledged_at.is_(None), _none_read()
            )
            .order_by(notifications.c.escalate_at)
            .limit(limit)
        )
        return [_times(dict(row._mapping)) for row in rows]

    async def escalated(self, cause_id: str, kind: str) -> bool:
        """Take the notification and its copies off the escalation list, unless one was acknowledged
        meanwhile; False if so, or if another run took them first."""
        result = await self._session.execute(
            update(notifications)
            .where(
                notifications.c.cause_id == cause_id,
                notifications.c.kind == kind,
                notifications.c.escalate_at.is_not(None),
                _none_read(),
            )
            .values(escalate_at=None)
        )
        return bool(result.rowcount >= 1)  # type: ignore[attr-defined]

    # --- sending ---------------------------------------------------------------------

    async def claim(
        self, channel: Channel, now: datetime, held_until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """A channel's queued deliveries due now, held until ``held_until`` so that no other sender
        takes them meanwhile; the hold is the claim's token when its outcome is recorded.

        A sender that dies holding one lets it fall due again when the hold ends: it may be sent
        twice (receivers deduplicate by its id), never lost.
        """
        rows = await self._session.execute(
            _CLAIM, {"b_channel": channel, "b_now": now, "b_held_until": held_until, "b_limit": limit}
        )
        return [dict(row._mapping) for row in rows]

    async def notifications_by_id(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        rows = await self._session.execute(_NOTIFICATIONS, {"ids": list(ids)})
        return {row.notification_id: _times(dict(row._mapping)) for row in rows}

    async def recipients_by_id(self, ids: set[str]) -> dict[str, Recipient]:
        if not ids:
            return {}
        rows = await self._session.execute(_RECIPIENTS, {"ids": list(ids)})
        return {row.recipient_id: _recipient(row) for row in rows}

    async def secrets_of(self, recipient_ids: set[str], now: datetime) -> dict[str, list[str]]:
        """Each recipient's secrets that sign now, newest first."""
        if not recipient_ids:
            return {}
        rows = await self._session.execute(_SECRETS, {"ids": list(recipient_ids), "b_now": now})
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.recipient_id, []).append(row.secret)
        return found

    async def record_attempt(
        self,
        notification_id: str,
        channel: Channel,
        *,
        attempt: int,
        now: datetime,
        held_until: datetime,
        status: str,
        error: str | None,
        retry_at: datetime | None,
    ) -> bool:
        """The attempt's outcome; False if the claim no longer holds the delivery (its hold ran out and
        another claim took it, or it was settled): a late outcome changes nothing."""
        stage(
            self._session,
            attempts,
            dict(
                notification_id=notification_id,
                channel=channel,
                attempt=attempt,
                at=now,
                outcome=status if retry_at is None else "retry",
                error=error,
            ),
        )
        result = await self._session.execute(
            _RECORD,
            dict(
                b_notification_id=notification_id, b_channel=channel, b_status=QUEUED if retry_at else status,
                b_attempt=attempt, b_previous=attempt - 1, b_held_until=held_until, b_next_at=retry_at or now,
                b_error=error, b_now=now,
            ),
        )  # fmt: skip
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _case(row: Any) -> rules.Case:
    return rules.Case(
        area=row.area,
        lead_agency=Agency(row.lead_agency) if row.lead_agency else None,
        offender_manager=row.offender_manager,
    )


def _none_read() -> ColumnElement[bool]:
    """No copy of the notification (the same cause and kind, to another recipient) was acknowledged."""
    copy = notifications.alias("copy")
    return ~exists().where(
        copy.c.cause_id == notifications.c.cause_id,
        copy.c.kind == notifications.c.kind,
        copy.c.acknowledged_at.is_not(None),
    )


def _times(values: dict[str, Any]) -> dict[str, Any]:
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in values.items()}
