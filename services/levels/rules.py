"""MAPPA level rules (MAPPA Guidance ch.7). Pure, no I/O.

A newly categorised case is managed at level 1 until the lead agency's
formal screening sets its level: "level 1 pending screening".
"""

from dataclasses import dataclass
from typing import Literal

Level = Literal[1, 2, 3]


@dataclass(frozen=True)
class CaseLevel:
    level: Level
    status: Literal["pending-screening", "screened"]


def on_categorised(current: CaseLevel | None) -> CaseLevel | None:
    """The level a case takes when the register assigns a category.

    A new case sits at level 1 pending screening; a case already known keeps
    its level (a category change is reviewed, not re-screened from scratch).
    """
    if current is None:
        return CaseLevel(level=1, status="pending-screening")
    return None
