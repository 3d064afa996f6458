"""Events published by the registry on ``registry.offenders.v1``."""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from schemas.contract import Contract
from schemas.identifiers import Scheme


class AgencyIdentifier(Contract):
    scheme: Scheme
    value: str = Field(min_length=1, max_length=32)


class NominalRegistered(Contract):
    """A person entered the register under a new platform id."""

    EVENT_NAME: ClassVar[str] = "nominal-registered"

    platform_id: str = Field(min_length=1, max_length=64)
    identifiers: list[AgencyIdentifier]


class CategoryAssigned(Contract):
    """The register derived a MAPPA category for a nominal."""

    EVENT_NAME: ClassVar[str] = "category-assigned"

    platform_id: str = Field(min_length=1, max_length=64)
    category: Literal[1, 2, 3, 4]
    reason: str = Field(min_length=1, max_length=300)
    legal_basis: str = Field(min_length=1, max_length=100)
    effective_date: date
