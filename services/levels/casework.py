"""Level management's steps, shared by agency events and the HTTP API: check the rules, store, record, emit.

Each step takes the casework as its contract states it (an agency event,
or the API's request turned into one), so a step taken over HTTP and the
same step taken by an agency's case system are handled alike. A step the
rules refuse returns ``Refused`` and changes nothing.
"""

from datetime import date
from typing import Any

from eventkit import history
from eventkit.errors import Refused
from eventkit.outbox import Cause, Emitter
from eventkit.policy import AreaPolicies
from schemas.agencies import Role
from schemas.contract import Contract
from schemas.events import levels
from schemas.events.casework import (
    LevelDecisionRecorded,
    ReferralDecided,
    ReferralSubmitted,
    ScreeningRecorded,
)
from services.levels import rules
from services.levels.policy import LevelsPolicy
from services.levels.reviews import next_review
from services.levels.storage import Case, LevelStore
from services.levels.triggers import serious_case_review_by, should_consider_referral

NO_CASE = Refused("no MAPPA case with this platform id")


class Casework:
    """Steps on cases, in one transaction, with the area policies the service runs under."""

    def __init__(self, work: Emitter, policies: AreaPolicies[LevelsPolicy]) -> None:
        self._work = work
        self._policies = policies
        self.store = LevelStore(work.session)

    def policy(self, case: Case) -> LevelsPolicy:
        return self._policies.for_area(case.area)

    async def note(self, platform_id: str, change: str, cause: Cause | None = None) -> None:
        found = cause or self._work.caused_by
        assert found is not None, "every change names its cause"
        history.record(self._work.session, platform_id, change, found)

    async def emit(self, data: Contract, platform_id: str) -> None:
        await self._work.emit(data, key=platform_id)

    def _review_by(self, case: Case, level: rules.Level, on: date) -> date:
        return next_review(on, level, case.lead_agency, self.policy(case))

    # --- what the register says -------------------------------------------------

    async def categorised(self, platform_id: str, category: int, area: str | None, on: date) -> None:
        """A category assigned: a new (or returning) case is opened pending screening.

        A record merged into another opens nothing: the survivor's case is the person's.
        """
        if survivor := await self.store.merged_into(platform_id):
            await self.note(platform_id, f"category {category}: the case is {survivor}'s since the merge")
            return
        case = await self.store.case(platform_id)
        opened = rules.on_categorised(None if case is None else case.level)
        if opened is None:
            assert case is not None
            await self.store.update(platform_id, category=category, area=area or case.area)
            await self.note(platform_id, f"category {category}")
            return
        # A returning case keeps what the register said of it before: its area and lead agency.
        area = area or (case.area if case else None)
        lead_agency = case.lead_agency if case else None
        review_by = next_review(on, opened.level, lead_agency, self._policies.for_area(area))
        await self.store.open_case(
            platform_id, category=category, area=area, level=opened, since=on, next_review_by=review_by
        )
        await self.note(platform_id, f"category {category}: level 1 pending screening")
        await self.emit(
            levels.ScreeningDue(
                platform_id=platform_id,
                category=category,
                level=1,
                status="pending-screening",
                since=on,
                area=area,
            ),
            platform_id,
        )

    async def exited(self, platform_id: str, on: date) -> None:
        """The person left MAPPA: the case closes, and what was pending for it with it."""
        case = await self.store.case(platform_id)
        if case is not None and case.level.status != "closed":
            await self.close(case, on, for_merge=False)
            await self.note(platform_id, "case closed: left MAPPA")
            await self.emit(
                levels.CaseClosed(platform_id=platform_id, closed_on=on, reason="exited-mappa"), platform_id
            )

    async def close(self, case: Case, on: date, *, for_merge: bool) -> None:
        """Close the case; one closed by a merge keeps what it was, for an unmerge to reopen."""
        await self.store.update(
            case.platform_id,
            status="closed",
            closed_on=on,
            next_review_by=case.next_review_by if for_merge else None,
            status_before_close=case.level.status if for_merge else None,
            accepted_referral_level=None,
        )
        # Referrals not yet acted on end with the case; a new episode is referred afresh.
        await self.store.withdraw_referrals(case.platform_id)

    async def risk_assessed(self, platform_id: str, rosh: str, on: date) -> None:
        case = await self.store.case(platform_id)
        if case is None or (case.rosh_as_of is not None and on < case.rosh_as_of):
            return  # an older assessment never replaces a newer one
        await self.store.update(platform_id, rosh=rosh, rosh_as_of=on)
        await self.note(platform_id, f"RoSH {rosh}")
        if should_consider_referral(case.level, case.rosh, rosh):
            await self.note(platform_id, "RoSH now high at level 1: consider referral")
            await self.emit(
                levels.ConsiderReferral(platform_id=platform_id, rosh=rosh, assessed_on=on),
                platform_id,
            )

    async def charged(self, platform_id: str, on: date, serious: bool) -> None:
        case = await self.store.case(platform_id)
        if case is None or case.level.status == "closed" or not serious:
            return
        by = serious_case_review_by(on, self.policy(case))
        await self.note(platform_id, f"serious further offence charge: tell the board chair by {by}")
        await self.emit(
            levels.SeriousCaseReviewDue(
                platform_id=platform_id, level=case.level.level, charged_on=on, notify_board_chair_by=by
            ),
            platform_id,
        )

    async def case_fact(self, platform_id: str, change: str, **values: Any) -> None:
        """A fact about the case that later decisions rest on: lead agency, area, release date."""
        if await self.store.case(platform_id) is not None:
            await self.store.update(platform_id, **values)
            await self.note(platform_id, change)

    # --- casework by agencies and co-ordinators ---------------------------------

    async def screened(self, step: ScreeningRecorded, agency: str) -> Refused | None:
        """``agency`` screened: the one whose topic carried the event, or the caller's."""
        case = await self.store.case(step.platform_id)
        if case is None:
            return NO_CASE
        if refused := rules.may_screen(case.lead_agency, agency):
            return refused
        outcome = rules.screen(case.level, step.outcome, step.level_sought)
        if isinstance(outcome, Refused):
            return outcome
        on = step.screened_on
        review_by = self._review_by(case, 1, on)
        confirmed = step.outcome == "level-1"
        await self.store.update(
            step.platform_id, status=outcome.status, confirmed=confirmed, next_review_by=review_by
        )
        sought = f" (referral for level {step.level_sought})" if step.level_sought else ""
        await self.note(step.platform_id, f"screened by {step.screened_by.staff_ref}: {step.outcome}{sought}")
        await self.emit(
            levels.ScreeningDone(
                platform_id=step.platform_id,
                outcome=step.outcome,
                level_sought=step.level_sought,
                screened_on=on,
            ),
            step.platform_id,
        )
        if confirmed:
            await self.emit(
                levels.LevelSet(
                    platform_id=step.platform_id,
                    level=1,
                    kind="set",
                    decided_on=on,
                    decided_by_role=step.screened_by.role,
                    senior_officer_authorised=False,
                    next_review_by=review_by,
                ),
                step.platform_id,
            )
        return None

    async def referred(self, step: ReferralSubmitted) -> Refused | None:
        case = await self.store.case(step.platform_id)
        if case is None:
            return NO_CASE
        if refused := rules.may_refer(case.level, step.level_sought):
            return refused
        if not await self.store.add_referral(
            step.platform_id,
            step.referral_ref,
            level_sought=step.level_sought,
            referring_agency=step.referring_agency,
            reasons=step.reasons,
            current_rosh=step.current_rosh,
            lower_level_insufficient=step.lower_level_insufficient,
            referred_on=step.referred_on,
            referred_by=step.referred_by.staff_ref,
        ):
            return Refused(f"referral {step.referral_ref} is on record already")
        await self.note(
            step.platform_id,
            f"referral {step.referral_ref} for level {step.level_sought} by {step.referring_agency}",
        )
        await self.emit(
            levels.ReferralMade(
                platform_id=step.platform_id,
                referral_ref=step.referral_ref,
                level_sought=step.level_sought,
                referring_agency=step.referring_agency,
                current_rosh=step.current_rosh,
                referred_on=step.referred_on,
            ),
            step.platform_id,
        )
        return None

    async def referral_decided(self, step: ReferralDecided) -> Refused | None:
        case = await self.store.case(step.platform_id)
        if case is None:
            return NO_CASE
        referral = await self.store.referral(step.platform_id, step.referral_ref)
        if referral is None:
            return Refused(f"no referral {step.referral_ref} for this case")
        status, sought = referral
        accepting = step.decision == "accepted"
        if refused := rules.may_decide_referral(
            case.level, status, sought, step.decided_by.role, accepting=accepting
        ):
            return refused
        if not await self.store.decide_referral(
            step.platform_id,
            step.referral_ref,
            status=step.decision,
            decision_reason=step.reason,
            decided_on=step.decided_on,
            decided_by=step.decided_by.staff_ref,
        ):
            return Refused(f"referral {step.referral_ref} was decided meanwhile")
        if accepting:
            await self.store.update(
                step.platform_id, accepted_referral_level=max(sought, case.accepted_referral_level or 0)
            )
        await self.note(step.platform_id, f"referral {step.referral_ref} {step.decision}")
        event = levels.ReferralAccepted if step.decision == "accepted" else levels.ReferralDeclined
        await self.emit(
            event(
                platform_id=step.platform_id,
                referral_ref=step.referral_ref,
                level_sought=sought,
                decided_on=step.decided_on,
            ),
            step.platform_id,
        )
        return None

    async def level_decided(self, step: LevelDecisionRecorded) -> Refused | None:
        case = await self.store.case(step.platform_id)
        if case is None:
            return NO_CASE
        authoriser = step.authorised_by
        decision = rules.decide_level(
            case.level,
            step.level,
            decided_by=step.decided_by.role,
            authorised_by=authoriser.role if authoriser else None,
            accepted_referral_level=case.accepted_referral_level,
            confirmed=case.confirmed,
        )
        if isinstance(decision, Refused):
            return decision
        on = step.decided_on
        review_by = self._review_by(case, decision.level, on)
        senior = Role.SENIOR_OFFICER in (step.decided_by.role, authoriser.role if authoriser else None)
        still_allowed = case.accepted_referral_level
        if decision.kind == "raised":
            still_allowed = await self.store.use_referral(step.platform_id, decision.level)
        await self.store.update(
            step.platform_id,
            level=decision.level,
            status="managed",
            confirmed=True,
            next_review_by=review_by,
            accepted_referral_level=still_allowed,
        )
        await self.store.add_decision(
            step.platform_id,
            kind=decision.kind,
            level=decision.level,
            previous_level=decision.previous,
            rationale=step.rationale,
            decided_on=on,
            decided_by=step.decided_by.staff_ref,
            decided_by_role=step.decided_by.role,
            authorised_by=authoriser.staff_ref if authoriser else None,
            authorised_by_role=authoriser.role if authoriser else None,
        )
        await self.note(
            step.platform_id,
            f"level {decision.level} {decision.kind} by {step.decided_by.role} {step.decided_by.staff_ref}",
        )
        common = dict(
            platform_id=step.platform_id,
            level=decision.level,
            decided_on=on,
            decided_by_role=step.decided_by.role,
            senior_officer_authorised=senior,
            next_review_by=review_by,
        )
        if decision.kind in ("raised", "lowered"):
            await self.emit(
                levels.LevelChanged(previous_level=decision.previous, kind=decision.kind, **common),
                step.platform_id,
            )
        else:
            await self.emit(levels.LevelSet(kind=decision.kind, **common), step.platform_id)
        return None
