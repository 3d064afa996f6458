"""Notification handlers: keep what routing needs to know, then tell whoever the routing table names.

The register says where a case is managed and by whom; meetings say who is
invited. Every event a route names is handed to the notifier; events no
route names are never decoded (the consumer skips types it has no handler
for).
"""

from collections.abc import Awaitable, Callable, Iterable

from eventkit import invitations
from eventkit.consumer import Handlers, UnitOfWork
from eventkit.policy import AreaPolicies
from schemas.catalogue import LEVELS_DECISIONS, MEETINGS_SCHEDULE, REGISTRY_OFFENDERS
from schemas.contract import Contract
from schemas.events import meetings, registry
from services.notifications.notify import Notifier
from services.notifications.policy import NotificationsPolicy
from services.notifications.rules import Case
from services.notifications.storage import NotificationStore

CONSUMES = (REGISTRY_OFFENDERS, LEVELS_DECISIONS, MEETINGS_SCHEDULE)
Keep = Callable[[Contract, UnitOfWork], Awaitable[None]]


async def _category(data: registry.CategoryAssigned, work: UnitOfWork) -> None:
    if data.area is not None:
        store = NotificationStore(work.session)
        await _placed(store, *await store.set_case(data.platform_id, area=data.area), data.platform_id, work)


async def _transferred(data: registry.Transferred, work: UnitOfWork) -> None:
    store = NotificationStore(work.session)
    await _placed(store, *await store.set_case(data.platform_id, area=data.to_area), data.platform_id, work)


async def _lead_agency(data: registry.LeadAgencySet, work: UnitOfWork) -> None:
    await NotificationStore(work.session).set_case(data.platform_id, lead_agency=str(data.lead_agency))


async def _offender_manager(data: registry.OffenderManagerAllocated, work: UnitOfWork) -> None:
    store = NotificationStore(work.session)
    case, _ = await store.set_case(data.platform_id, offender_manager=data.staff_ref)
    await _known(store, case, work)


async def _known(store: NotificationStore, case: Case, work: UnitOfWork) -> None:
    """The case's offender manager in the directory (inbox only), once the case has an area."""
    if case.area is not None and case.offender_manager is not None:
        await store.allocated(case.offender_manager, case.area, case.lead_agency, work.now)


async def _placed(
    store: NotificationStore, case: Case, waiting: bool, platform_id: str, work: UnitOfWork
) -> None:
    """The register placed the case in an area: what waited for it is told now."""
    await _known(store, case, work)
    if waiting:
        assert work.policies is not None, "the notifications service runs with its area policies"
        await Notifier(work, work.policies, now=work.now).placed(platform_id)


async def _invitation(
    data: meetings.MeetingScheduled | meetings.MeetingRescheduled, work: UnitOfWork
) -> None:
    await NotificationStore(work.session).set_meeting(
        data.meeting_id, data.chair_role, data.attendee_agencies
    )


# What notifications keeps of an event before routing it. Invitations are the kit's projection, for
# need-to-know on reads; ``notify_meetings`` keeps whom the last invitation named, which outlives the
# invitations a cancellation ends, to tell them of it.
KEEP: dict[type[Contract], Keep] = {
    meetings.AttendeeInvited: invitations.invited,  # type: ignore[dict-item]
    meetings.AttendeeUninvited: invitations.uninvited,  # type: ignore[dict-item]
    registry.CategoryAssigned: _category,  # type: ignore[dict-item]
    registry.Transferred: _transferred,  # type: ignore[dict-item]
    registry.LeadAgencySet: _lead_agency,  # type: ignore[dict-item]
    registry.OffenderManagerAllocated: _offender_manager,  # type: ignore[dict-item]
    meetings.MeetingScheduled: _invitation,  # type: ignore[dict-item]
    meetings.MeetingRescheduled: _invitation,  # type: ignore[dict-item]
}


def routed(policies: AreaPolicies[NotificationsPolicy]) -> set[str]:
    """Event names some area's routing table names."""
    return {kind for policy in policies.all() for kind in policy.routes}


def handlers(policies: AreaPolicies[NotificationsPolicy]) -> Handlers:
    names = routed(policies)
    found = Handlers()
    for model in _events():
        keep = KEEP.get(model)
        if keep is not None or model.EVENT_NAME in names:  # type: ignore[attr-defined]
            found.on(model)(_handler(model, keep, policies, routed=model.EVENT_NAME in names))  # type: ignore[attr-defined]
    return found


def _events() -> Iterable[type[Contract]]:
    return (model for topic in CONSUMES for model in topic.events)


def _handler(
    model: type[Contract], keep: Keep | None, policies: AreaPolicies[NotificationsPolicy], *, routed: bool
) -> Callable[[Contract, UnitOfWork], Awaitable[None]]:
    kind: str = model.EVENT_NAME  # type: ignore[attr-defined]

    async def handle(data: Contract, work: UnitOfWork) -> None:
        if keep is not None:
            await keep(data, work)
        if not routed:
            return
        fields = data.model_dump()
        waiting = (work.cause.type, data)  # kept, as JSON, only if the case has no area yet
        notifier = Notifier(work, policies, now=work.now)
        await notifier.event(kind, fields["platform_id"], fields, work.cause.id, waiting=waiting)

    return handle
