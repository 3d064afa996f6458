"""Who manages the case and how: lead agency, offender manager, risk, area."""

from eventkit.consumer import UnitOfWork
from schemas.events import registry
from schemas.events.common import (
    AreaTransferred,
    LeadAgencySet,
    OffenderManagerAllocated,
    RiskAssessmentCompleted,
)
from services.registry.handlers.resolve import nominal_for, on, update_if_newer
from services.registry.storage import RegistryStore


@on(LeadAgencySet)
async def lead_agency_set(data: LeadAgencySet, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        change = f"lead agency {data.lead_agency}"
        if await update_if_newer(
            work, platform_id, "lead-agency", data.effective_from, change, lead_agency=data.lead_agency
        ):
            await work.emit(
                registry.LeadAgencySet(
                    platform_id=platform_id, lead_agency=data.lead_agency, effective_from=data.effective_from
                ),
                key=platform_id,
            )


@on(OffenderManagerAllocated)
async def offender_manager_allocated(data: OffenderManagerAllocated, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        if not await update_if_newer(
            work,
            platform_id,
            "offender-manager",
            data.allocated_on,
            "offender manager allocated",
            offender_manager_ref=data.staff_ref,
            offender_manager_team=data.team_code,
        ):
            return
        await work.emit(
            registry.OffenderManagerAllocated(
                platform_id=platform_id,
                staff_ref=data.staff_ref,
                team_code=data.team_code,
                allocated_on=data.allocated_on,
            ),
            key=platform_id,
        )


@on(RiskAssessmentCompleted)
async def risk_assessment_completed(data: RiskAssessmentCompleted, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        await RegistryStore(work.session).add_risk_assessment(
            platform_id,
            completed_on=data.completed_on,
            tool=data.tool,
            rosh=data.rosh,
            assessor_agency=data.assessor_agency,
        )
        change = f"risk assessed ({data.tool}): {data.rosh}"
        # An older assessment arriving late is kept on record, but does not replace the current RoSH.
        if not await update_if_newer(work, platform_id, "rosh", data.completed_on, change, rosh=data.rosh):
            return
        await work.emit(
            registry.RiskAssessed(
                platform_id=platform_id,
                rosh=data.rosh,
                completed_on=data.completed_on,
                assessor_agency=data.assessor_agency,
            ),
            key=platform_id,
        )


@on(AreaTransferred)
async def area_transferred(data: AreaTransferred, work: UnitOfWork) -> None:
    if platform_id := await nominal_for(data.person, work):
        change = f"transferred to area {data.to_area}"
        if not await update_if_newer(
            work, platform_id, "area", data.transferred_on, change, area=data.to_area
        ):
            return
        await work.emit(
            registry.Transferred(
                platform_id=platform_id,
                from_area=data.from_area,
                to_area=data.to_area,
                transferred_on=data.transferred_on,
            ),
            key=platform_id,
        )
