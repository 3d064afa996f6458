"""What the casework view counts for a co-ordinator's area: each measure, in the domain's words.

A measure is a count of cases, meetings, actions or notifications in the
area, and opens a list of the platform ids behind it. Which rows a measure
takes is in ``storage.py``; here is what each one means and how the page
groups them. The dates behind "due" and "overdue" are the owning service's:
levels says when a review is due or overdue, meetings when a meeting,
minutes or an action is overdue, the register when a registration
notification is, so the dashboard never applies a rule of its own.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    group: str
    # What the measure counts: its list shows these ids (cases by platform id, the rest by their own).
    counts: str = "cases"
    # The date its list shows beside each id, if any (the owning service's date).
    dated: str | None = None


MEASURES = (
    Measure("reviews-due", "Reviews due", "Reviews", dated="review by"),
    Measure("reviews-overdue", "Reviews overdue", "Reviews", dated="review by"),
    Measure(
        "release-screenings-due", "Release screenings due (no level confirmed)", "Reviews", dated="release"
    ),
    Measure("meetings-required", "Meetings required (not yet held)", "Meetings", "meetings", "required by"),
    Measure(
        "meetings-unscheduled", "Meetings required and unscheduled", "Meetings", "meetings", "required by"
    ),
    Measure(
        "meetings-overdue",
        "Meetings overdue (not scheduled by the date required)",
        "Meetings",
        "meetings",
        "required by",
    ),
    Measure("minutes-overdue", "Minutes overdue", "Meetings", "meetings"),
    Measure("actions-overdue", "Risk management plan actions overdue", "Meetings", "actions", "due on"),
    Measure(
        "registrations-overdue", "Registration notifications overdue", "Registration", dated="overdue since"
    ),
    Measure("notifications-failed", "Notifications failed", "Notifications", "notifications"),
    Measure(
        "notifications-unacknowledged",
        "Urgent notifications not acknowledged",
        "Notifications",
        "notifications",
    ),
)
BY_KEY = {measure.key: measure for measure in MEASURES}
GROUPS = tuple(dict.fromkeys(measure.group for measure in MEASURES))
LEVELS = (1, 2, 3)
CATEGORIES = (1, 2, 3, 4)


def caseload_key(category: int, level: int) -> str:
    """The measure key of the caseload cell for ``category`` at ``level``."""
    return f"caseload-c{category}-l{level}"


def caseload_cell(key: str) -> tuple[int, int] | None:
    """The (category, level) of a caseload key, or None if ``key`` is not one."""
    prefix, _, rest = key.partition("-c")
    category, _, level = rest.partition("-l")
    if prefix != "caseload" or not (category.isdigit() and level.isdigit()):
        return None
    cell = int(category), int(level)
    return cell if cell[0] in CATEGORIES and cell[1] in LEVELS else None
