"""How a rebuild of the register decides whom each agency event is about: as the live register did.

The live register decided identity as events came, and co-ordinators decided what it could not. A
rebuild reads the same events in another interleaving of topics and partitions, so deciding afresh
could register a person twice, or under a new platform id. The register's own published events say
what was decided: each names the agency event that caused it (``causationid``) and the nominal it is
about (``subject``). Pure rules and the state a rebuild carries; no I/O (``rebuild.py`` reads and
writes).
"""

from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from schemas.catalogue import type_of
from schemas.envelope import CloudEvent
from schemas.events.registry import (
    IdentifiersLinked,
    NominalRegistered,
    NominalsMerged,
    NominalsUnmerged,
    NotificationOverdue,
)
from schemas.identifiers import Scheme
from services.registry import identity


@dataclass(frozen=True)
class Decided:
    """The live register, or a co-ordinator, applied the event to this nominal: so does the rebuild."""

    platform_id: str


@dataclass(frozen=True)
class Register:
    """The event registers its person under the platform id the live register gave them."""

    platform_id: str


@dataclass(frozen=True)
class Wait:
    """Its person is not known yet in the rebuild's order: apply it once they are (by an identifier,
    or as ``nominal`` once that is registered)."""

    nominal: str | None = None


@dataclass(frozen=True)
class AsLeft:
    """A resolution case holds the event, open or dismissed: it stays as the co-ordinators left it."""


Steered = identity.Resolution | Decided | Register | Wait | AsLeft


def steer(
    resolution: identity.Resolution,
    planned: str | None,
    *,
    planned_exists: bool,
    registered_it: bool,
    complete: bool,
    may_register: bool,
    may_wait: bool,
) -> Steered:
    """What the rebuild does with an event the rules resolved to ``resolution``, given the nominal
    the live register applied it to (``planned``, None if nothing says) and whether this event is the
    one that registered it there (``registered_it``: the nominal takes this event's details)."""
    if isinstance(resolution, identity.Conflict):
        # The live register held it, and a co-ordinator decided; or it came after a merge.
        return Decided(planned) if planned else resolution
    if isinstance(resolution, identity.Matched):
        # Another nominal than live: a merge made since, which the rebuild makes only at the end.
        return Decided(planned) if planned and planned != resolution.platform_id else resolution
    if planned is not None and planned_exists:
        return Decided(planned)  # known by identifiers another event brought (a merge, a decision)
    if planned is not None and complete and may_register and (registered_it or not may_wait):
        return Register(planned)
    if planned is None and not may_register:
        return resolution  # live ignored it too: nobody's charge matters until they are on the register
    return Wait(planned) if may_wait else resolution


def not_yet(decided: Decided, *, may_wait: bool) -> Wait | AsLeft:
    """A decided nominal the rebuild has not registered yet (its registering event comes later);
    once the log has run out, it never will be."""
    return Wait(decided.platform_id) if may_wait else AsLeft()


@dataclass(frozen=True)
class MergeMade:
    merge_id: int
    survivor: str
    absorbed: str
    area: str | None
    at: datetime


@dataclass(frozen=True)
class MergeUndone:
    merge_id: int
    at: datetime


@dataclass(frozen=True)
class Breach:
    platform_id: str
    notification: str
    deadline: date
    at: datetime


_REGISTERED = type_of(NominalRegistered)
_LINKED = type_of(IdentifiersLinked)
_MERGED = type_of(NominalsMerged)
_UNMERGED = type_of(NominalsUnmerged)
_OVERDUE = type_of(NotificationOverdue)


@dataclass
class Published:
    """What the register published, folded: whom each event was about, and the decisions to make again."""

    about: dict[str, str] = field(default_factory=dict)
    # When the register applied each event (its own clock, never the sender's).
    applied_at: dict[str, datetime] = field(default_factory=dict)
    registered_at: dict[str, datetime] = field(default_factory=dict)
    # The event that registered each nominal, and the schemes each event linked to its nominal.
    registered_by: dict[str, str] = field(default_factory=dict)
    linked: dict[str, list[Scheme]] = field(default_factory=dict)
    decisions: list[MergeMade | MergeUndone] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    _seen: set[tuple[object, ...]] = field(default_factory=set)

    def add(self, event: CloudEvent) -> None:
        data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
        if event.causationid and event.subject:
            self.about.setdefault(event.causationid, event.subject)
            self.applied_at.setdefault(event.causationid, event.time)
        if event.type == _REGISTERED and event.subject:
            self.registered_at.setdefault(event.subject, event.time)
            if event.causationid:
                self.registered_by.setdefault(event.subject, event.causationid)
        elif event.type == _LINKED and event.causationid:
            self.linked.setdefault(event.causationid, IdentifiersLinked.model_validate(data).schemes)
        elif event.type == _MERGED:
            merged = NominalsMerged.model_validate(data)
            survivor, absorbed = merged.platform_id, merged.absorbed_platform_id
            made = MergeMade(merged.merge_id, survivor, absorbed, merged.area, event.time)
            self._once(("merged", merged.merge_id), made)
        elif event.type == _UNMERGED:
            merge_id = NominalsUnmerged.model_validate(data).merge_id
            self._once(("unmerged", merge_id), MergeUndone(merge_id, event.time))
        elif event.type == _OVERDUE:
            overdue = NotificationOverdue.model_validate(data)
            breach = Breach(overdue.platform_id, overdue.notification, overdue.deadline, event.time)
            self._once(("overdue", overdue.platform_id, overdue.notification, overdue.deadline), breach)

    def _once(self, key: tuple[object, ...], decision: "MergeMade | MergeUndone | Breach") -> None:
        """A decision published twice (the outbox relay sends at least once) is made again once."""
        if key in self._seen:
            return
        self._seen.add(key)
        if isinstance(decision, Breach):
            self.breaches.append(decision)
        else:
            self.decisions.append(decision)

    def add_line(self, cause_id: str, subject: str, at: datetime) -> None:
        """A line of the register's history, which a rebuild keeps: whom an event that published
        nothing (custody started, say) was about, and when it was applied."""
        self.about.setdefault(cause_id, subject)
        self.applied_at.setdefault(cause_id, at)

    def in_order(self) -> list[MergeMade | MergeUndone]:
        """Merges and unmerges as they were decided (their topic's partitions are read one by one)."""
        return sorted(self.decisions, key=lambda d: (d.at, d.merge_id, isinstance(d, MergeUndone)))


@dataclass
class Staged:
    """A transaction's changes to the events waiting: kept only if it commits."""

    waits: dict[str, tuple[frozenset[str], str | None, dict[str, Any]]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)


@dataclass
class Rebuilding:
    """A rebuild under way: what was published, the resolution cases kept, and events waiting."""

    published: Published
    # Kept resolution cases by held event: (status, the nominal a co-ordinator decided, if any).
    cases: Mapping[str, tuple[str, str | None]]
    may_wait: bool = True
    # Events that found no nominal once the log ran out.
    unplaced: int = 0
    # Events waiting for their person, by id: the identifiers claimed ("scheme:value"), the nominal
    # they wait for, if known, and the event.
    waiting: dict[str, tuple[frozenset[str], str | None, dict[str, Any]]] = field(default_factory=dict)

    def wait(
        self,
        staged: Staged,
        event_id: str,
        claimed: Mapping[Scheme, str],
        nominal: str | None,
        event: dict[str, Any],
    ) -> None:
        staged.taken.discard(event_id)
        staged.waits[event_id] = (frozenset(f"{s}:{v}" for s, v in claimed.items()), nominal, event)

    def take(self, staged: Staged, known: Mapping[Scheme, str], platform_id: str) -> list[dict[str, Any]]:
        """The waiting events about someone just made known: by an identifier, or by platform id."""
        wanted = {f"{s}:{v}" for s, v in known.items()}
        found: list[dict[str, Any]] = []
        for event_id, (claimed, nominal, event) in [*self.waiting.items(), *staged.waits.items()]:
            if event_id not in staged.taken and (nominal == platform_id or claimed & wanted):
                staged.taken.add(event_id)
                found.append(event)
        return found

    def commit(self, staged: Staged) -> None:
        self.waiting.update(staged.waits)
        for event_id in staged.taken:
            self.waiting.pop(event_id, None)


_current: ContextVar[Rebuilding | None] = ContextVar("registry_rebuilding", default=None)


def current() -> Rebuilding | None:
    """The rebuild under way in this context, if any: live handling has none."""
    return _current.get()


def begin(state: Rebuilding) -> Token[Rebuilding | None]:
    """Handlers in this context rebuild, with ``state``, until ``end``."""
    return _current.set(state)


def end(token: Token[Rebuilding | None]) -> None:
    _current.reset(token)
