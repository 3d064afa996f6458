"""What minutes hold (form MAPPA C) and the risk management plan's four pillars.

The chair's record of the meeting, understandable to someone who was not
there: who came and who sent apologies, every decision with its rationale,
the views that differed, the level decided, the plan and its actions with
an owning agency, a member of staff and a due date. Victims never attend:
the Victim Liaison Officer gives their views. None of this text leaves the
meetings service's audited API; events carry ids, dates, roles and counts.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from eventkit.http import RequestBody
from schemas.agencies import Agency, Role
from schemas.events.casework import StaffRef

Text = Annotated[str, Field(min_length=1, max_length=8000)]
Pillar = Literal[
    "supervision", "monitoring-and-control", "interventions-and-treatment", "victim-safety-planning"
]


class Attendance(RequestBody):
    agency: Agency
    staff_ref: str = Field(min_length=1, max_length=64, description="Opaque staff reference, never a name")
    role: Role
    present: bool = Field(description="False: sent apologies")


class Decision(RequestBody):
    decision: Text
    rationale: Text


class LevelDecision(RequestBody):
    level: Literal[1, 2, 3]
    rationale: Text
    authorised_by: StaffRef | None = Field(
        default=None,
        description="A senior officer's authorisation, for level 3 at a meeting they did not chair",
    )


class Plan(RequestBody):
    """The risk management plan: the four pillars, and what to do if it fails."""

    supervision: Text
    monitoring_and_control: Text
    interventions_and_treatment: Text
    victim_safety_planning: Text
    contingency: Text | None = None


class Disclosure(RequestBody):
    """Disclosure to third parties is considered in every case."""

    considered: Literal[True]
    decision: Text


class Action(RequestBody):
    pillar: Pillar
    description: Text
    rationale: Text
    owner_agency: Agency
    owner_staff_ref: str = Field(min_length=1, max_length=64, description="Opaque staff reference")
    due_on: date


class Minutes(RequestBody):
    attendance: list[Attendance] = Field(min_length=1, max_length=60)
    confidentiality_statement_read: bool = Field(description="MAPPA D read out or pointed to")
    victim_liaison_officer_present: bool
    victim_views: Text | None = Field(default=None, description="As the Victim Liaison Officer gave them")
    summary: Text
    decisions: list[Decision] = Field(min_length=1, max_length=50)
    differing_views: Text | None = None
    level_decision: LevelDecision
    plan: Plan
    disclosure: Disclosure
    actions: list[Action] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _one_line_each(self) -> "Minutes":
        if len({(a.agency, a.staff_ref) for a in self.attendance}) != len(self.attendance):
            raise ValueError("each person appears once in the attendance")
        return self

    def stored(self) -> dict[str, Any]:
        """The minutes as the minutes table holds them."""
        return dict(
            attendance=[a.model_dump(mode="json") for a in self.attendance],
            confidentiality_statement_read=self.confidentiality_statement_read,
            victim_liaison_officer_present=self.victim_liaison_officer_present,
            victim_views=self.victim_views,
            summary=self.summary,
            decisions=[d.model_dump(mode="json") for d in self.decisions],
            differing_views=self.differing_views,
            level_decided=self.level_decision.level,
            level_rationale=self.level_decision.rationale,
            authorised_by=self.level_decision.authorised_by.staff_ref
            if self.level_decision.authorised_by
            else None,
            authorised_by_role=self.level_decision.authorised_by.role
            if self.level_decision.authorised_by
            else None,
            plan=self.plan.model_dump(mode="json"),
            disclosure_considered=True,
            disclosure_decision=self.disclosure.decision,
        )
