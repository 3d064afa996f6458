"""MAPPA categories (CJA 2003 s.325, s.327): which one a person is in, and when it ends.

Pure rules, no I/O. A conviction decides categories 1 and 2: category 1
for Sexual Offences Act 2003 Schedule 3 offences (notification
requirements), category 2 for murder, or a Schedule 15 offence with 12
months' or more custody, or a hospital or guardianship order. Categories 3
and 4 come only by accepted referral.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
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


# The provision each category rests on.
LEGAL_BASIS: dict[int, str] = {
    1: "CJA 2003 s.327; SOA 2003 Part 2",
    2: "CJA 2003 s.327",
    3: "CJA 2003 s.325(2)",
    4: "CJA 2003 s.327(4A)",
}


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
            legal_basis=LEGAL_BASIS[1],
        )
    if conviction.murder:
        return CategoryDecision(category=2, reason="Convicted of murder", legal_basis=LEGAL_BASIS[2])
    if conviction.criminal_justice_act_schedule_15:
        if conviction.disposal in ALWAYS_CATEGORY_2:
            return CategoryDecision(
                category=2,
                reason=f"Schedule 15 offence with a {conviction.disposal} disposal",
                legal_basis=LEGAL_BASIS[2],
            )
        if conviction.disposal in CUSTODIAL and (conviction.custody_months or 0) >= 12:
            return CategoryDecision(
                category=2,
                reason="Schedule 15 offence with 12 months' or more custody",
                legal_basis=LEGAL_BASIS[2],
            )
    return None


def serious_further_offence(*, murder: bool, criminal_justice_act_schedule_15: bool) -> bool:
    """A charge that starts a serious case review for someone under MAPPA: murder or a specified offence."""
    return murder or criminal_justice_act_schedule_15


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


Ending = Literal[
    "notification-period-ended", "licence-ended", "released-without-licence", "hospital-order-ended"
]

# What ends each category (MAPPA Guidance, from CJA 2003 s.327); 3 and 4 end by decision.
ENDS = {
    "notification-period-ended": (1, "Notification requirements ended (SOA 2003 s.82)"),
    "licence-ended": (2, "Licence ended"),
    "released-without-licence": (2, "Released without a licence"),
    "hospital-order-ended": (2, "Hospital or guardianship order ended"),
}


@dataclass(frozen=True)
class Exit:
    reason: str


# Categories 3 and 4 end only by the Responsible Authority's decision (MAPPA Guidance).
ENDED_BY_DECISION = {
    3: "Category 3 ended: risk of serious harm judged reduced",
    4: "Category 4 ended by decision",
}


def ended_by_decision(current: int | None, category: int) -> Exit | None:
    """A decision to end ``category`` ends MAPPA management only if that is the person's category."""
    return (
        Exit(ENDED_BY_DECISION[category]) if current == category and category in ENDED_BY_DECISION else None
    )


def after_ending(
    category: int | None,
    ending: Ending,
    *,
    still_detained_or_supervised: bool,
    convictions: Iterable[Conviction],
) -> CategoryDecision | Exit | None:
    """What ``ending`` means for a person in ``category``: nothing (None), category 2, or exit.

    Category 2 lasts while the person is detained, on licence or under a
    hospital order. When a registered sex offender's requirements end while
    they are still so supervised for a conviction that qualifies for
    category 2, they move to category 2 rather than leave MAPPA.
    """
    ends_category, reason = ENDS[ending]
    if category != ends_category:
        return None
    if ending != "notification-period-ended":
        return None if still_detained_or_supervised else Exit(reason)
    if still_detained_or_supervised:
        for conviction in convictions:
            decision = category_for(replace(conviction, sexual_offences_act_schedule_3=False))
            if decision is not None:
                return replace(decision, reason=f"{reason}; {decision.reason}")
    return Exit(reason)
