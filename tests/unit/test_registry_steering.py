"""A rebuild applies each agency event to the nominal the live register applied it to: the table of
what the rules resolve, what the log says, and what the rebuild does."""

from datetime import UTC, date, datetime

import pytest

from schemas.catalogue import type_of
from schemas.envelope import new_event
from schemas.events.registry import CategoryAssigned, NominalRegistered, NominalsMerged, NominalsUnmerged
from services.registry import identity
from services.registry.steering import (
    Decided,
    MergeMade,
    MergeUndone,
    Published,
    Rebuilding,
    Register,
    Staged,
    Steered,
    Wait,
    steer,
)

NEW = identity.NewNominal()
MATCHED_P = identity.Matched("P")
MATCHED_Q = identity.Matched("Q")
CONFLICT = identity.Conflict("date-of-birth-differs", ("Q",))


@pytest.mark.parametrize(
    ("resolved", "planned", "exists", "registered_it", "complete", "may_register", "may_wait", "steered"),
    [
        # The rules agree with the log, or the log says nothing: as live.
        (MATCHED_P, "P", False, False, True, True, True, MATCHED_P),
        (MATCHED_Q, None, False, False, True, True, True, MATCHED_Q),
        # A co-ordinator decided a held event; or the live register applied it after a merge.
        (CONFLICT, "P", False, False, True, True, True, Decided("P")),
        (MATCHED_Q, "P", False, False, True, True, True, Decided("P")),
        # A contradiction the log says nothing about is held, as live.
        (CONFLICT, None, False, False, True, True, True, CONFLICT),
        # Registered under the platform id the log holds, by the event that registered it live;
        # known already by other identifiers.
        (NEW, "P", False, True, True, True, True, Register("P")),
        (NEW, "P", True, False, False, False, True, Decided("P")),
        # Another event registered it live, with its details: wait for that one, unless the log ran out.
        (NEW, "P", False, False, True, True, True, Wait("P")),
        (NEW, "P", False, False, True, True, False, Register("P")),
        # Its person is not known yet in the rebuild's order: it waits, until the log runs out.
        (NEW, "P", False, False, False, True, True, Wait("P")),
        (NEW, None, False, False, True, True, True, Wait()),
        (NEW, "P", False, False, False, False, True, Wait("P")),
        (NEW, None, False, False, True, True, False, NEW),
        # A charge against someone never on the register was ignored live, and is again.
        (NEW, None, False, False, True, False, True, NEW),
    ],
)
def test_what_a_rebuild_does_with_an_event(
    resolved: identity.Resolution,
    planned: str | None,
    exists: bool,
    registered_it: bool,
    complete: bool,
    may_register: bool,
    may_wait: bool,
    steered: Steered,
) -> None:
    assert (
        steer(
            resolved,
            planned,
            planned_exists=exists,
            registered_it=registered_it,
            complete=complete,
            may_register=may_register,
            may_wait=may_wait,
        )
        == steered
    )


def test_the_log_says_whom_each_event_was_about_and_the_decisions_in_the_order_made() -> None:
    first, later = datetime(2026, 5, 1, 9, tzinfo=UTC), datetime(2026, 5, 2, 9, tzinfo=UTC)
    published = Published()
    category = CategoryAssigned(
        platform_id="P", category=1, reason="r", legal_basis="b", effective_date=date(2026, 5, 1), area="01"
    )
    for event in [
        new_event(type_of(NominalRegistered), NominalRegistered(platform_id="P", schemes=["pnc"]),
                  source="/mappa/registry", subject="P", time=first, causation_id="conviction-1"),
        new_event(type_of(CategoryAssigned), category, source="/mappa/registry", subject="P", time=first,
                  causation_id="conviction-1"),
        new_event(type_of(NominalsUnmerged), NominalsUnmerged(platform_id="P", restored_platform_id="Q",
                  merge_id=7, schemes=["pnc"]), source="/mappa/registry", subject="P", time=later,
                  causation_id="unmerge/7"),
        new_event(type_of(NominalsMerged), NominalsMerged(platform_id="P", absorbed_platform_id="Q",
                  merge_id=7, schemes=["pnc"], area="01"), source="/mappa/registry", subject="P", time=first,
                  causation_id="merge/7"),
    ]:  # fmt: skip
        published.add(event)
    assert published.about["conviction-1"] == "P"
    assert published.applied_at["conviction-1"] == first
    assert published.registered_at == {"P": first}
    assert published.in_order() == [MergeMade(7, "P", "Q", "01", first), MergeUndone(7, later)]


def test_a_waiting_event_is_taken_when_an_identifier_of_its_person_or_its_nominal_becomes_known() -> None:
    waiting = Rebuilding(Published(), {})
    first = Staged()
    waiting.wait(first, "e1", {"pnc": "2001/0000001A"}, None, {"id": "e1"})
    waiting.wait(first, "e2", {"crn": "X000001"}, "P", {"id": "e2"})
    waiting.commit(first)
    second = Staged()
    assert waiting.take(second, {"pnc": "2099/0000009Z"}, "R") == []
    assert waiting.take(second, {"pnc": "2001/0000001A"}, "R") == [{"id": "e1"}]
    assert waiting.take(second, {}, "P") == [{"id": "e2"}]
    assert waiting.take(second, {}, "P") == []  # taken once in a transaction
    waiting.commit(second)
    assert waiting.waiting == {}


def test_what_a_transaction_that_rolls_back_took_still_waits() -> None:
    waiting = Rebuilding(Published(), {})
    first = Staged()
    waiting.wait(first, "e1", {"pnc": "2001/0000001A"}, None, {"id": "e1"})
    waiting.commit(first)
    rolled_back = Staged()
    assert waiting.take(rolled_back, {"pnc": "2001/0000001A"}, "R") == [{"id": "e1"}]
    # Never committed: the next transaction finds it waiting still.
    assert waiting.take(Staged(), {"pnc": "2001/0000001A"}, "R") == [{"id": "e1"}]


def test_an_event_taken_and_made_to_wait_again_in_one_transaction_waits() -> None:
    waiting = Rebuilding(Published(), {})
    first = Staged()
    waiting.wait(first, "e1", {"pnc": "2001/0000001A"}, "P", {"id": "e1"})
    waiting.commit(first)
    again = Staged()
    assert waiting.take(again, {}, "P") == [{"id": "e1"}]
    waiting.wait(again, "e1", {"pnc": "2001/0000001A"}, "Q", {"id": "e1"})
    waiting.commit(again)
    assert list(waiting.waiting) == ["e1"]
