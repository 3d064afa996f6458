"""Making notifications: route an event, find its recipients, record one notification each, queue it.

Used by the handlers (platform events), the escalation job and the sender
(a channel that failed). Each notification goes to the recipient's inbox at
once (``delivered``) and is queued on the recipient's other channels for the
sender; nothing here waits on a mail server or an agency system.
"""

import contextlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject

from eventkit.outbox import Emitter
from eventkit.policy import AreaPolicies
from schemas.agencies import Agency, Role
from schemas.catalogue import EVENT_MODELS
from schemas.contract import Contract
from schemas.events.notifications import Channel, NotificationDelivered, NotificationQueued, Redirect
from services.notifications import rules
from services.notifications.content import Content, render
from services.notifications.policy import NotificationsPolicy, Route
from services.notifications.storage import NotificationStore, Recipient, notification_id

DELIVERY_FAILED = "delivery-failed"
# An event's type and payload, to keep (as JSON) if its case waits for an area.
Waiting = tuple[str, Contract] | None


def trace_of(notification: Mapping[str, Any]) -> otel_context.Context:
    """The trace of the event that caused the notification: its status events continue it."""
    return extract({k: notification[k] for k in ("traceparent", "tracestate") if notification[k]})


def status_of(notification: Mapping[str, Any]) -> dict[str, Any]:
    """What every status event says of its notification: ids and roles only."""
    n = notification
    return dict(notification_id=n["notification_id"], platform_id=n["platform_id"], kind=n["kind"],
                recipient_role=n["role"], recipient_agency=n["agency"])  # fmt: skip


@contextlib.contextmanager
def on_trace_of(row: Mapping[str, Any]) -> Iterator[None]:
    """What is emitted inside goes out on the trace the row (a notification, a waiting event) came on."""
    token = otel_context.attach(trace_of(row))
    try:
        yield
    finally:
        otel_context.detach(token)


class Notifier:
    def __init__(self, work: Emitter, policies: AreaPolicies[NotificationsPolicy], *, now: datetime) -> None:
        self._work = work
        self._policies = policies
        self.now = now
        self.store = NotificationStore(work.session)

    async def event(
        self,
        kind: str,
        platform_id: str,
        fields: Mapping[str, Any],
        cause_id: str,
        *,
        waiting: Waiting = None,
    ) -> int:
        """Tell whoever the area's routing names of this event; returns how many were told.

        With ``waiting`` (the event's type and payload), an event about a case in no area yet waits
        for the register to place it (``placed``) rather than going to the unplaced co-ordinators.
        """
        case = await self.store.case(platform_id)
        area = rules.area_of(fields, case)
        if area is None and waiting is not None:
            event_type, data = waiting
            await self.store.wait(platform_id, event_type, data.model_dump_json(), cause_id, self.now)
            return 0
        route = self._policies.for_area(area).routes.get(kind)
        if route is None or not rules.applies(route, fields):
            return 0
        meeting = await self.store.meeting(fields["meeting_id"]) if "meeting_id" in fields else None
        case = rules.Case(area, case.lead_agency, case.offender_manager)
        content = render(route, fields)
        told = 0
        seen: set[str] = set()
        for target in route.to:
            for who in rules.addressees(target, fields, case, meeting):
                told += await self._tell(
                    who, area, kind, platform_id, cause_id, route, content, fields.get("ics"), seen
                )
        return told

    async def placed(self, platform_id: str | None = None, *, waited_since: datetime | None = None) -> int:
        """Route the events that waited for the case's area (or, with ``waited_since``, every case's that
        waited since then, to the co-ordinators of cases in no area); returns how many were told."""
        told = 0
        for kept in await self.store.waiting_for(platform_id, since=waited_since):
            data = EVENT_MODELS[kept["event_type"]].model_validate_json(kept["payload"])
            fields = data.model_dump()
            with on_trace_of(kept):
                kind = data.EVENT_NAME  # type: ignore[attr-defined]
                told += await self.event(kind, fields["platform_id"], fields, kept["cause_id"])
        return told

    async def escalate(self, original: dict[str, Any]) -> list[tuple[str, Role]]:
        """Tell the next role of an urgent notification nobody acknowledged; returns the new ids, and the
        role told (the co-ordinators, for a case in no area yet)."""
        role = Role(original["escalate_to"]) if original["area"] else Role.MAPPA_COORDINATOR
        content = Content(original["subject"], original["action"], original["due"])
        made = []
        for recipient in await self._role_entries(original["area"], role):
            made_id = await self._add(
                kind=original["kind"],
                platform_id=original["platform_id"],
                area=original["area"],
                # Its copies to others in the role escalate as one: once per next recipient.
                cause_id=f"escalation/{original['cause_id']}",
                recipient=recipient,
                who=rules.Addressee(role),
                content=content,
                route=None,
                urgent=original["urgent"],
                ics=None,
                escalated_from=original["notification_id"],
            )
            if made_id is not None:
                made.append((made_id, role))
        return made

    async def delivery_failed(
        self, failed: dict[str, Any], channel: Channel, attempts: int, error: str
    ) -> None:
        """Tell the area's co-ordinator that a channel gave up on a notification (never of their own)."""
        if failed["kind"] == DELIVERY_FAILED:
            return
        fields = {**failed, "channel": channel, "attempts": attempts, "error": error}
        route = self._policies.for_area(failed["area"]).routes[DELIVERY_FAILED]
        content = render(route, fields)
        for recipient in await self._role_entries(failed["area"], Role.MAPPA_COORDINATOR):
            await self._add(
                kind=DELIVERY_FAILED,
                platform_id=failed["platform_id"],
                area=failed["area"],
                cause_id=f"failed/{failed['notification_id']}/{channel}",
                recipient=recipient,
                who=rules.COORDINATOR,
                content=content,
                route=route,
                ics=None,
            )

    async def _tell(
        self,
        who: rules.Addressee | rules.Unknown,
        area: str | None,
        kind: str,
        platform_id: str,
        cause_id: str,
        route: Route,
        content: Content,
        ics: str | None,
        seen: set[str],
    ) -> int:
        redirected: Redirect | None = None
        intended: Role | None = None
        found: list[Recipient | str] = []
        if isinstance(who, rules.Unknown):
            redirected, intended = who.reason, who.intended_role
        elif area is not None:
            found.extend(await self.store.recipients_for(area, who))
        if not found and isinstance(who, rules.Addressee) and who.role is not Role.MAPPA_COORDINATOR:
            redirected, intended = "not-in-directory", who.role
        addressee = who if isinstance(who, rules.Addressee) and redirected is None else rules.COORDINATOR
        entries = found or await self._role_entries(area, Role.MAPPA_COORDINATOR)
        told = 0
        for recipient in entries:
            key = recipient.recipient_id if isinstance(recipient, Recipient) else recipient
            if key in seen:
                continue
            seen.add(key)
            made = await self._add(
                kind=kind,
                platform_id=platform_id,
                area=area,
                cause_id=cause_id,
                recipient=recipient,
                who=addressee,
                content=content,
                route=route,
                ics=ics,
                redirected=redirected,
                intended_role=intended,
            )
            told += made is not None
        return told

    async def _role_entries(self, area: str | None, role: Role) -> list[Recipient | str]:
        """A role's directory entries in the area, or, with none, the role's shared inbox there."""
        found: list[Recipient | str] = []
        if area is not None:
            found.extend(await self.store.recipients_for(area, rules.Addressee(role)))
        return found or [f"inbox/{area or '-'}/{role}"]

    async def _add(
        self,
        *,
        kind: str,
        platform_id: str,
        area: str | None,
        cause_id: str,
        recipient: Recipient | str,
        who: rules.Addressee,
        content: Content,
        route: Route | None,
        ics: str | None,
        redirected: Redirect | None = None,
        intended_role: Role | None = None,
        escalated_from: str | None = None,
        urgent: bool | None = None,
    ) -> str | None:
        """Record one notification and queue it; None if this one was made before."""
        entry = recipient if isinstance(recipient, Recipient) else None
        role = entry.role if entry else who.role
        agency: Agency | None = entry.agency if entry else who.agency
        key = entry.recipient_id if entry else str(recipient)
        made_id = notification_id(cause_id, key, kind)
        urgent = bool(route and route.urgent) if urgent is None else urgent
        carrier: dict[str, str] = {}
        inject(carrier)  # status events published later go out on this trace
        added = await self.store.add(
            dict(
                notification_id=made_id,
                platform_id=platform_id,
                area=area,
                kind=kind,
                cause_id=cause_id,
                recipient_id=entry.recipient_id if entry else None,
                role=str(role),
                agency=str(agency) if agency else None,
                staff_ref=entry.staff_ref if entry else None,
                redirected=redirected,
                intended_role=str(intended_role) if intended_role else None,
                urgent=urgent,
                subject=content.subject,
                action=content.action,
                due=content.due,
                ics=ics,
                created_at=self.now,
                escalate_at=rules.escalate_at(route, self.now) if route else None,
                escalate_to=str(route.escalate_to) if route and route.escalate_to else None,
                escalated_from=escalated_from,
                traceparent=carrier.get("traceparent"),
                tracestate=carrier.get("tracestate"),
            )
        )
        if not added:
            return None
        channels: list[Channel] = ["inbox", *(entry.sending if entry else [])]
        self.store.queue(made_id, channels, self.now)
        status = dict(
            notification_id=made_id,
            platform_id=platform_id,
            kind=kind,
            recipient_role=role,
            recipient_agency=agency,
        )
        await self._work.emit(
            NotificationQueued(
                **status,
                channels=channels,
                urgent=urgent,
                redirected=redirected,
                intended_role=intended_role,
            ),
            key=platform_id,
        )
        await self._work.emit(NotificationDelivered(**status, channel="inbox", attempts=1), key=platform_id)
        return made_id
