"""Which MAPPA category a conviction brings a person into (CJA 2003 s.325, s.327).

Pure rules, no I/O. This first cut covers what the conviction alone decides:
category 1 for Sexual Offences Act 2003 Schedule 3 offences (notification
requirements), category 2 for Schedule 15 offences with 12 months' or more
custody or a hospital or guardianship order. Referral categories (3, 4) and
the full notification rules arrive with the register itself.
"""

from dataclasses import dataclass
from typing import Literal

Category = Literal[1, 2, 3, 4]

# Disposals that are custody for s.327(3) purposes when 12 months or longer.
CUSTODIAL = frozenset({"custody", "detention-and-training-order"})
# Disposals that are category 2 whatever their length (s.327(3)(b), (4)).
ALWAYS_CATEGORY_2 = frozenset(
    {
        "life-sentence",
        "imprisonment-for-public-protection",
        "detention-at-his-majestys-pleasure",
        "hospital-order",
        "hospital-order-with-restriction",
        "guardianship-order",
    }
)


@dataclass(frozen=True)
class Conviction:
    sexual_offences_act_schedule_3: bool
    criminal_justice_act_schedule_15: bool
    disposal: str
    custody_months: int | None
    murder: bool = False


@dataclass(frozen=True)
class CategoryDecision:
    category: Category
    reason: str
    legal_basis: str


def category_for(conviction: Conviction) -> CategoryDecision | None:
    """The category this conviction alone places the person in, if any."""
    if conviction.sexual_offences_act_schedule_3:
        return CategoryDecision(
            category=1,
            reason="Subject to notification requirements for a Schedule 3 sexual offence",
            legal_basis="CJA 2003 s.327; SOA 2003 Part 2",
        )
    if conviction.murder:
        return CategoryDecision(category=2, reason="Convicted of murder", legal_basis="CJA 2003 s.327")
    if conviction.criminal_justice_act_schedule_15:
        if conviction.disposal in ALWAYS_CATEGORY_2:
            return CategoryDecision(
                category=2,
                reason=f"Schedule 15 offence with a {conviction.disposal} disposal",
                legal_basis="CJA 2003 s.327",
            )
        if conviction.disposal in CUSTODIAL and (conviction.custody_months or 0) >= 12:
            return CategoryDecision(
                category=2,
                reason="Schedule 15 offence with 12 months' or more custody",
                legal_basis="CJA 2003 s.327",
            )
    return None


def prevailing(current: int | None, decision: CategoryDecision | None) -> CategoryDecision | None:
    """The decision to record now, or None to keep the current category.

    A person who qualifies for more than one category is managed under the
    lowest-numbered one: a later Schedule 15 custody conviction does not
    take a registered sex offender out of category 1. Category 4 changes
    only by decision, never by conviction.
    """
    if decision is None or current == 4:
        return None
    if current is None or decision.category < current:
        return decision
    return None


DETAINING = {
    "custody": "in-custody",
    "detention-and-training-order": "in-custody",
    "life-sentence": "in-custody",
    "imprisonment-for-public-protection": "in-custody",
    "detention-at-his-majestys-pleasure": "in-custody",
    "hospital-order": "detained-in-hospital",
    "hospital-order-with-restriction": "detained-in-hospital",
}


def detention_from(disposal: str) -> str | None:
    """Where an immediate custodial or hospital disposal places the person, until told otherwise.

    A suspended sentence detains no one. Notification deadlines do not run
    while a person is detained (SOA 2003 s.83(6)), so knowing this avoids
    reporting a breach by someone who could not have notified.
    """
    return DETAINING.get(disposal)


Ending = Literal["notification-period-ended", "licence-ended", "hospital-order-ended"]

# What ends each category (MAPPA Guidance, from CJA 2003 s.327); 3 and 4 end by decision.
ENDS = {
    "notification-period-ended": (1, "Notification requirements ended (SOA 2003 s.82)"),
    "licence-ended": (2, "Licence ended"),
    "hospital-order-ended": (2, "Hospital or guardianship order ended"),
}


def exit_reason(category: int | None, ending: Ending, *, still_detained_or_supervised: bool) -> str | None:
    """Why the person leaves MAPPA because of ``ending``, or None if they stay."""
    ends_category, reason = ENDS[ending]
    if category != ends_category or still_detained_or_supervised:
        return None
    return reason
