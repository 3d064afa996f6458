"""Identity resolution: which nominal an agency's claim about a person refers to.

Pure rules, no I/O. Exact identifier matches link; contradictory facts
never merge silently but open a resolution case for a person to decide.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from schemas.identifiers import Scheme


@dataclass(frozen=True)
class Claim:
    """What one event says about a person: identifiers and date of birth."""

    identifiers: Mapping[Scheme, str]
    date_of_birth: date | None


@dataclass(frozen=True)
class Nominal:
    """A person already on the register, as far as resolution needs to know.

    A scheme may hold more than one value once two nominals are merged
    (one person with two PNC IDs, say): any of them matches.
    """

    platform_id: str
    identifiers: Mapping[Scheme, frozenset[str]]
    date_of_birth: date


@dataclass(frozen=True)
class NewNominal:
    """No identifier is known: register a new person."""


@dataclass(frozen=True)
class Matched:
    """One nominal, consistent with the claim; ``link`` holds identifiers it gains."""

    platform_id: str
    link: Mapping[Scheme, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Conflict:
    """The claim contradicts the register: a person must decide."""

    reason: Literal["identifiers-match-several-nominals", "date-of-birth-differs", "identifier-differs"]
    platform_ids: tuple[str, ...]
    scheme: Scheme | None = None


Resolution = NewNominal | Matched | Conflict


def resolve(claim: Claim, candidates: Sequence[Nominal]) -> Resolution:
    """Resolve a claim against the nominals that share at least one of its identifiers."""
    matched = {
        n.platform_id: n
        for n in candidates
        if any(value in n.identifiers.get(scheme, ()) for scheme, value in claim.identifiers.items())
    }
    if not matched:
        return NewNominal()
    if len(matched) > 1:
        return Conflict("identifiers-match-several-nominals", tuple(sorted(matched)))
    [nominal] = matched.values()
    if claim.date_of_birth is not None and claim.date_of_birth != nominal.date_of_birth:
        return Conflict("date-of-birth-differs", (nominal.platform_id,))
    for scheme, value in claim.identifiers.items():
        known = nominal.identifiers.get(scheme)
        if known and value not in known:
            return Conflict("identifier-differs", (nominal.platform_id,), scheme)
    link = {s: v for s, v in claim.identifiers.items() if s not in nominal.identifiers}
    return Matched(nominal.platform_id, link)
