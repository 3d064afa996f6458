"""The dashboard's templates escape what they show: agencies write what dead letters hold, people type
purposes, and a page must never run what either wrote."""

from datetime import UTC, datetime

from services.operations.storage import DeadLetter
from services.operations.web import templates

HOSTILE = '<script>alert("x")</script>'


def test_a_dead_letter_page_escapes_what_an_agency_wrote() -> None:
    letter = DeadLetter(
        topic="agency.police.v1.dlt", partition=0, offset=7, original_topic="agency.police.v1",
        original_partition=0, original_offset=9, consumer="registry", error_class="InvalidMessage",
        error_message=f"data.{HOSTILE}: Field required", attempts=1, event_type=HOSTILE, event_id=HOSTILE,
        dead_lettered_at=datetime(2026, 12, 3, tzinfo=UTC), decision=None, decided_by=None, decided_at=None,
        reason=None,
    )  # fmt: skip
    page = templates.get_template("deadletter.html.j2").render(
        letter=letter, payload=HOSTILE, principal=None, form_token="t", error=HOSTILE
    )
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_a_list_page_escapes_the_purpose_typed() -> None:
    page = templates.get_template("list.html.j2").render(
        title="Reviews overdue", key="reviews-overdue", rows=[], purpose=HOSTILE, offset=0, page=100,
        counts="cases", dated=None, links={}, principal=None,
    )  # fmt: skip
    assert "<script>" not in page
