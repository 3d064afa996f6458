"""Queries behind the registry's read API; each returns plain rows for the API to shape."""

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.tables import (
    addresses,
    aliases,
    breaches,
    convictions,
    identifiers,
    nominals,
    resolution_cases,
    risk_assessments,
)


class RegistryReads:
    """Queries behind the read API; each returns plain rows for the API to shape."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def nominal(self, platform_id: str) -> dict[str, Any] | None:
        row = (
            await self._session.execute(select(nominals).where(nominals.c.platform_id == platform_id))
        ).first()
        if row is None:
            return None
        found = dict(row._mapping)
        ids = await self._session.execute(
            select(identifiers.c.scheme, identifiers.c.value).where(identifiers.c.platform_id == platform_id)
        )
        found["identifiers"] = [{"scheme": r.scheme, "value": r.value} for r in ids]
        convicted = await self._session.execute(
            select(convictions)
            .where(convictions.c.platform_id == platform_id)
            .order_by(convictions.c.conviction_date)
        )
        found["convictions"] = [dict(r._mapping) for r in convicted]
        assessed = await self._session.execute(
            select(risk_assessments)
            .where(risk_assessments.c.platform_id == platform_id)
            .order_by(risk_assessments.c.completed_on)
        )
        found["risk_assessments"] = [dict(r._mapping) for r in assessed]
        found["aliases"] = [
            dict(r._mapping)
            for r in await self._session.execute(
                select(aliases.c.family_name, aliases.c.given_names, aliases.c.until)
                .where(aliases.c.platform_id == platform_id)
                .order_by(aliases.c.id)
            )
        ]
        found["addresses"] = [
            dict(r._mapping)
            for r in await self._session.execute(
                select(
                    addresses.c.notified_on,
                    addresses.c.line1,
                    addresses.c.town,
                    addresses.c.postcode,
                    addresses.c.no_fixed_abode,
                )
                .where(addresses.c.platform_id == platform_id)
                .order_by(addresses.c.id)
            )
        ]
        found["breaches"] = [
            dict(r._mapping)
            for r in await self._session.execute(
                select(breaches.c.notification, breaches.c.deadline)
                .where(breaches.c.platform_id == platform_id)
                .order_by(breaches.c.deadline)
            )
        ]
        return found

    async def by_identifier(self, scheme: str, value: str) -> str | None:
        platform_id: str | None = await self._session.scalar(
            select(identifiers.c.platform_id).where(
                identifiers.c.scheme == scheme, identifiers.c.value == value
            )
        )
        return platform_id

    async def search(
        self, family_name: str, date_of_birth: date, *, area: str, limit: int, offset: int
    ) -> list[str]:
        """Nominals of ``area`` with this family name and date of birth; paged after the area filter."""
        name = family_name.lower()
        former = select(aliases.c.platform_id).where(func.lower(aliases.c.family_name) == name)
        rows = await self._session.execute(
            select(nominals.c.platform_id)
            .where(
                # Exact, ignoring case: no wildcards from the caller. Former names (aliases) count.
                or_(func.lower(nominals.c.family_name) == name, nominals.c.platform_id.in_(former)),
                nominals.c.date_of_birth == date_of_birth,
                nominals.c.area == area,
            )
            .order_by(nominals.c.platform_id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars())

    async def area(self, platform_id: str) -> str | None:
        value: str | None = await self._session.scalar(
            select(nominals.c.area).where(nominals.c.platform_id == platform_id)
        )
        return value

    async def open_cases(self) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(
                resolution_cases.c.id,
                resolution_cases.c.opened_at,
                resolution_cases.c.reason,
                resolution_cases.c.platform_ids,
                resolution_cases.c.event_id,
                resolution_cases.c.event_type,
            )
            .where(resolution_cases.c.status == "open")
            .order_by(resolution_cases.c.id)
        )
        return [dict(r._mapping) for r in rows]
