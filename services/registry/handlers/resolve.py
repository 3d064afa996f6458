"""What every registry handler shares: the handler table, finding the nominal an event is about, and history.

An event names a person by agency identifiers. ``nominal_for`` turns them
into a platform id (found, linked or newly registered) or holds the event
in a resolution case when the register cannot tell whom it is about.
"""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import event

from eventkit import history
from eventkit.codec import decode
from eventkit.consumer import Handlers, UnitOfWork
from eventkit.outbox import Cause, Emitter
from schemas.catalogue import TOPIC_OF_EVENT
from schemas.contract import Contract
from schemas.events.common import PersonRef
from schemas.events.police import PersonDetails
from schemas.events.registry import IdentifiersLinked, NominalRegistered
from schemas.identifiers import Scheme
from services.registry import identity, steering
from services.registry.storage import RegistryStore

log = logging.getLogger(__name__)
# A held event was accepted once already; its size was checked then.
HELD_MAX_BYTES = 16 * 1024 * 1024
handlers = Handlers()
# Identifiers that became known while handling an event: events held for them wait until it is applied.
_newly_known: ContextVar[list[tuple[str, Mapping[Scheme, str]]] | None] = ContextVar(
    "newly_known", default=None
)
# Set while a held event is applied again: only such an event can have a co-ordinator's decision.
_replaying: ContextVar[bool] = ContextVar("replaying", default=False)
C = TypeVar("C", bound=Contract)


def on(
    model: type[C],
) -> Callable[[Callable[[C, UnitOfWork], Awaitable[None]]], Callable[[C, UnitOfWork], Awaitable[None]]]:
    """Register a registry handler: it runs, then the events held for anyone it made known are applied.

    Held events run after their person's registering event has applied all
    its facts, so an early address notification finds the requirement the
    conviction brings.
    """

    def register(
        fn: Callable[[C, UnitOfWork], Awaitable[None]],
    ) -> Callable[[C, UnitOfWork], Awaitable[None]]:
        async def then_release(data: C, work: UnitOfWork) -> None:
            known: list[tuple[str, Mapping[Scheme, str]]] = []
            token = _newly_known.set(known)
            try:
                await fn(data, work)
            finally:
                _newly_known.reset(token)
            for platform_id, ids in known:
                await _release_held(work, platform_id, ids)

        handlers.on(model)(then_release)
        return fn

    return register


def claimed(person: PersonDetails | PersonRef) -> dict[Scheme, str]:
    ids = person.identifiers if isinstance(person, PersonRef) else person
    found: dict[Scheme, str | None] = {
        "pnc": ids.pnc_id,
        "cro": ids.cro_number,
        "prison-number": getattr(ids, "prison_number", None),
        "crn": getattr(ids, "crn", None),
    }
    return {scheme: value for scheme, value in found.items() if value}


async def nominal_for(
    person: PersonDetails | PersonRef,
    work: UnitOfWork,
    *,
    area: str | None = None,
    hold_if_unknown: bool = True,
) -> str | None:
    """The platform id the event is about: decided, found, linked or newly registered.

    None when the event contradicts the register or names no one known: it
    is then held in a resolution case for a person to decide, and nothing
    else changes. Another replica's transaction about the same person (by an identifier claimed, or
    the nominal found) finishes first.
    """
    store = RegistryStore(work.session)
    await store.take_turns(claimed=claimed(person).items())
    platform_id = await _nominal_for(person, work, store, area=area, hold_if_unknown=hold_if_unknown)
    if platform_id is not None:
        await store.take_turns(nominals=[platform_id])
    return platform_id


async def _nominal_for(
    person: PersonDetails | PersonRef,
    work: UnitOfWork,
    store: RegistryStore,
    *,
    area: str | None,
    hold_if_unknown: bool,
) -> str | None:
    # A co-ordinator who resolved a case named the nominal; the held event replays onto it.
    if _replaying.get() and (decided := await store.decided_nominal(work.cause.id)) is not None:
        return decided
    ids = claimed(person)
    complete = person.date_of_birth is not None and bool(person.family_name and person.given_names)
    resolved = identity.resolve(identity.Claim(ids, person.date_of_birth), await store.candidates(ids))
    resolution: steering.Steered = resolved
    if (rebuilding := steering.current()) is not None:
        resolution = await _as_live(rebuilding, store, work, resolved, complete, hold_if_unknown)
        if isinstance(resolution, steering.Wait):
            rebuilding.wait(_staged(work, rebuilding), work.cause.id, ids, resolution.nominal, _held(work))
        if isinstance(resolution, steering.Decided):
            await _link_as_live(work, store, resolution.platform_id, ids, rebuilding)
    if isinstance(resolution, steering.Decided):
        return resolution.platform_id
    if isinstance(resolution, steering.Wait | steering.AsLeft):
        return None
    if isinstance(resolution, identity.Conflict):
        await _hold(work, resolution.reason, resolution.platform_ids, ids)
        return None
    if isinstance(resolution, identity.Matched):
        if resolution.link:
            await store.link(resolution.platform_id, resolution.link)
            await note(
                work, resolution.platform_id, f"identifiers linked: {', '.join(sorted(resolution.link))}"
            )
            await work.emit(
                IdentifiersLinked(platform_id=resolution.platform_id, schemes=sorted(resolution.link)),
                key=resolution.platform_id,
            )
            await _when_applied(work, resolution.platform_id, resolution.link)
        return resolution.platform_id
    if not hold_if_unknown:
        return None
    if person.date_of_birth is None or not person.family_name or not person.given_names:
        await _hold(work, "unknown-person", (), ids)
        return None
    given = resolution.platform_id if isinstance(resolution, steering.Register) else None
    platform_id = await store.add_nominal(
        family_name=person.family_name,
        given_names=list(person.given_names),
        date_of_birth=person.date_of_birth,
        identifiers_=ids,
        area=area,
        platform_id=given,
        created_at=rebuilding.published.registered_at.get(given) if rebuilding and given else None,
    )
    await note(work, platform_id, "registered")
    await work.emit(NominalRegistered(platform_id=platform_id, schemes=sorted(ids)), key=platform_id)
    await _when_applied(work, platform_id, ids)
    return platform_id


async def _as_live(
    rebuilding: steering.Rebuilding,
    store: RegistryStore,
    work: UnitOfWork,
    resolution: identity.Resolution,
    complete: bool,
    may_register: bool,
) -> steering.Steered:
    """In a rebuild: the resolution the live register or a co-ordinator made for this event."""
    event_id = work.cause.id
    steered: steering.Steered | None = None
    if not _replaying.get() and (case := rebuilding.cases.get(event_id)) is not None:
        status, decided = case
        if decided is not None:
            steered = steering.Decided(decided)
        elif status != "applied":
            return steering.AsLeft()
    if steered is None:
        planned = rebuilding.published.about.get(event_id)
        exists = (
            planned is not None
            and isinstance(resolution, identity.NewNominal)
            and await store.has_nominal(planned)
        )
        registered = planned is not None and rebuilding.published.registered_by.get(planned) == event_id
        steered = steering.steer(
            resolution,
            planned,
            planned_exists=exists,
            registered_it=registered,
            complete=complete,
            may_register=may_register,
            may_wait=rebuilding.may_wait,
        )
    if isinstance(steered, steering.Decided) and not await store.has_nominal(steered.platform_id):
        if not rebuilding.may_wait:
            rebuilding.unplaced += 1
        return steering.not_yet(steered, may_wait=rebuilding.may_wait)
    return steered


async def _link_as_live(
    work: UnitOfWork,
    store: RegistryStore,
    platform_id: str,
    ids: Mapping[Scheme, str],
    rebuilding: steering.Rebuilding,
) -> None:
    """The identifiers the live register linked to the nominal from this event (its log says which
    schemes), unless some nominal holds them already."""
    schemes = rebuilding.published.linked.get(work.cause.id, ())
    link = {s: ids[s] for s in schemes if s in ids and not await store.candidates({s: ids[s]})}
    if link:
        await store.link(platform_id, link)
        await _when_applied(work, platform_id, link)


_STAGED = "registry.rebuild_staged"


def _staged(work: UnitOfWork, rebuilding: steering.Rebuilding) -> steering.Staged:
    """This transaction's changes to the rebuild's waiting events, kept when it commits."""
    info = work.session.info
    if (staged := info.get(_STAGED)) is None:
        staged = info[_STAGED] = steering.Staged()
        session = work.session.sync_session
        event.listen(
            session, "after_commit", lambda _s: rebuilding.commit(info.pop(_STAGED, steering.Staged()))
        )
        event.listen(session, "after_rollback", lambda _s: info.pop(_STAGED, None))
    return staged


def _held(work: UnitOfWork) -> dict[str, Any]:
    return work.cause.model_dump(mode="json")


async def _hold(
    work: UnitOfWork, reason: str, platform_ids: tuple[str, ...], ids: Mapping[Scheme, str]
) -> None:
    cause = work.cause
    await RegistryStore(work.session).open_case(
        reason=reason,
        platform_ids=platform_ids,
        event_id=cause.id,
        event_type=cause.type,
        event=_held(work),
        claimed=ids,
    )
    log.warning("resolution case opened (%s) for event %s", reason, cause.id)


async def replay(work: UnitOfWork, held: Mapping[str, object]) -> None:
    """Apply a held event in this transaction, through its own handler."""
    event_type = str(held["type"])
    incoming = decode(TOPIC_OF_EVENT[event_type].name, json.dumps(held).encode(), max_bytes=HELD_MAX_BYTES)
    again = work.for_cause(incoming.event)
    token = _replaying.set(True)
    try:
        await handlers.by_type[event_type](incoming, again)
    finally:
        _replaying.reset(token)
    work.emitted += again.emitted


async def _when_applied(work: UnitOfWork, platform_id: str, known: Mapping[Scheme, str]) -> None:
    if (pending := _newly_known.get()) is None:
        await _release_held(work, platform_id, known)
    else:
        pending.append((platform_id, known))


async def _release_held(work: UnitOfWork, platform_id: str, known: Mapping[Scheme, str]) -> None:
    """Apply events held because their person was unknown, now that an identifier of theirs is known.

    Agencies' topics are not ordered with each other, so a prison's event
    can arrive before the police conviction that registers the person. A
    rebuild's waiting events are applied the same way.
    """
    for held in await RegistryStore(work.session).take_held(known):
        await replay(work, held)
    if (rebuilding := steering.current()) is not None:
        for waited in rebuilding.take(_staged(work, rebuilding), known, platform_id):
            await replay(work, waited)


async def note(work: Emitter, platform_id: str, change: str, cause: Cause | None = None) -> None:
    """A line in the nominal's history, naming what caused it: an event, a decision or the schedule."""
    cause = cause or work.caused_by
    if cause is None:
        raise ValueError("a history line names its cause")
    history.record(work.session, platform_id, change, cause)


async def update(work: Emitter, platform_id: str, change: str, **facts: object) -> None:
    """Set facts on the nominal and say so in its history."""
    await RegistryStore(work.session).update(platform_id, **facts)
    await note(work, platform_id, change)


async def update_if_newer(
    work: Emitter, platform_id: str, fact: str, as_of: date, change: str, **facts: object
) -> bool:
    """Set facts of one kind unless the record already holds a more recent one; the history says which."""
    if not await RegistryStore(work.session).newer(platform_id, fact, as_of):
        await note(work, platform_id, f"{change} ({as_of.isoformat()}): older than the {fact} on record")
        return False
    if facts:
        await RegistryStore(work.session).update(platform_id, **facts)
    await note(work, platform_id, change)
    return True
