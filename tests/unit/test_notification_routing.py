"""The routing file covers the platform: every event another service publishes is routed or listed silent."""

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from eventkit.policy import load_policies
from schemas.agencies import Agency, Role
from schemas.catalogue import NOTIFICATIONS_DELIVERIES, PLATFORM_TOPICS
from services.notifications import rules
from services.notifications.content import render
from services.notifications.policy import DEFAULTS, ChannelPolicy, NotificationsPolicy

POLICIES = load_policies(DEFAULTS, NotificationsPolicy)
SHIPPED = POLICIES.defaults


def test_every_platform_event_is_routed_or_listed_as_needing_no_one() -> None:
    published = {
        model.EVENT_NAME  # type: ignore[attr-defined]
        for topic in PLATFORM_TOPICS
        if topic is not NOTIFICATIONS_DELIVERIES
        for model in topic.events
    }
    assert published - SHIPPED.routes.keys() - SHIPPED.silent.keys() == set()
    # Nothing routed or silenced that no service publishes (a typo would route nothing).
    assert (SHIPPED.routes.keys() | SHIPPED.silent.keys()) - published == {"delivery-failed"}


@pytest.mark.parametrize(
    ("event", "target"),
    [
        ("screening-due", "offender-manager"),
        ("referral-made", Role.MAPPA_COORDINATOR),
        ("level-changed", "offender-manager"),
        ("meeting-scheduled", "attendees"),
        ("meeting-rescheduled", "attendees"),
        ("meeting-cancelled", "attendees"),
        ("minutes-overdue", "chair"),
        ("action-overdue", "action-owner"),
        ("review-due", "offender-manager"),
        ("review-overdue", "offender-manager"),
        ("notification-overdue", Role.PUBLIC_PROTECTION_OFFICER),
        ("release-screening-alert", "offender-manager"),
        ("consider-referral", "offender-manager"),
        ("serious-case-review-due", Role.STRATEGIC_BOARD_CHAIR),
        ("case-closed", "offender-manager"),
    ],
)
def test_the_issue_list_reaches_its_people(event: str, target: str) -> None:
    assert target in SHIPPED.routes[event].to


@pytest.mark.parametrize(
    "event", ["review-overdue", "notification-overdue", "release-screening-alert", "serious-case-review-due"]
)
def test_urgent_notices_escalate(event: str) -> None:
    route = SHIPPED.routes[event]
    assert route.urgent
    assert route.escalate_to is not None
    assert route.escalate_after_hours is not None


def test_an_area_overrides_one_value_and_keeps_the_rest(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(DEFAULTS.read_text() + "\n[areas.01.routes.review-overdue]\nescalate_after_hours = 8\n")
    area = load_policies(policy, NotificationsPolicy).for_area("01").routes["review-overdue"]
    assert area.escalate_after_hours == 8
    assert area.escalate_to == SHIPPED.routes["review-overdue"].escalate_to


def test_a_route_that_escalates_names_to_whom(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(DEFAULTS.read_text() + "\n[areas.01.routes.review-due]\nescalate_after_hours = 8\n")
    with pytest.raises(ValidationError, match="go together"):
        load_policies(policy, NotificationsPolicy)


CASE = rules.Case(area="01", lead_agency=Agency.PROBATION, offender_manager=None)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            rules.Case("01", Agency.PROBATION, "om-7"),
            [rules.Addressee(Role.OFFENDER_MANAGER, staff_ref="om-7")],
        ),
        (CASE, [rules.Addressee(Role.OFFENDER_MANAGER, agency=Agency.PROBATION)]),
        (rules.Case("01"), [rules.Unknown(Role.OFFENDER_MANAGER, "no-offender-manager")]),
        (rules.Case(None), [rules.Unknown(Role.OFFENDER_MANAGER, "no-area")]),
    ],
)
def test_the_offender_manager_is_the_allocated_one_else_the_lead_agencys(
    case: rules.Case, expected: list[rules.Addressee | rules.Unknown]
) -> None:
    assert rules.addressees("offender-manager", {}, case, None) == expected


def test_a_cancellation_goes_to_the_agencies_the_last_invitation_named() -> None:
    meeting = rules.Meeting(Role.SENIOR_OFFICER, (Agency.POLICE, Agency.NHS))
    assert rules.addressees("attendees", {}, CASE, meeting) == [
        rules.Addressee(Role.SINGLE_POINT_OF_CONTACT, agency=Agency.POLICE),
        rules.Addressee(Role.SINGLE_POINT_OF_CONTACT, agency=Agency.NHS),
    ]
    assert rules.addressees("chair", {}, CASE, meeting) == [rules.Addressee(Role.SENIOR_OFFICER)]


def test_only_an_uninvitation_as_such_is_told() -> None:
    route = SHIPPED.routes["attendee-uninvited"]
    assert rules.applies(route, {"reason": "uninvited"})
    assert not rules.applies(route, {"reason": "meeting-cancelled"})  # the cancellation tells them


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 2.5, 5), (2, 5, 10), (4, 20, 40), (9, 30, 60)])
def test_retries_back_off_exponentially_with_jitter_up_to_a_cap(
    attempts: int, low: float, high: float
) -> None:
    policy = ChannelPolicy(max_attempts=10, first_retry_seconds=5, max_retry_seconds=60, timeout_seconds=5)
    now = datetime(2027, 3, 1, tzinfo=UTC)
    times = [rules.retry_at(policy, attempts, now, random.Random(seed)) for seed in range(50)]
    delays = {(t - now).total_seconds() for t in times if t is not None}
    assert len(delays) == len(set(times))
    assert min(delays) >= low
    assert max(delays) <= high
    assert len(delays) > 1  # jittered


def test_after_the_last_attempt_there_is_no_retry() -> None:
    policy = ChannelPolicy(max_attempts=3, first_retry_seconds=5, max_retry_seconds=60, timeout_seconds=5)
    assert rules.retry_at(policy, 3, datetime(2027, 3, 1, tzinfo=UTC), random.Random(1)) is None


def test_content_says_what_to_do_and_by_when_and_nothing_else() -> None:
    fields = {"platform_id": "nominal-1", "level": 2, "review_by": date(2027, 3, 1)}
    content = render(SHIPPED.routes["review-overdue"], fields)
    assert content.subject == "MAPPA case nominal-1: level review OVERDUE"
    assert content.due == "2027-03-01"
    assert "2027-03-01" in content.action


def test_a_meeting_time_is_shown_in_uk_time() -> None:
    fields = {
        "platform_id": "p",
        "level": 3,
        "meeting_id": "m",
        "starts_at": datetime(2027, 7, 1, 9, tzinfo=UTC),
    }
    assert "Thu 01 Jul 2027 10:00 (UK time)" in render(SHIPPED.routes["meeting-scheduled"], fields).subject


def test_a_template_naming_a_field_the_event_lacks_is_an_error_not_a_blank() -> None:
    with pytest.raises(Exception, match="undefined"):
        render(SHIPPED.routes["review-overdue"], {"platform_id": "p"})
