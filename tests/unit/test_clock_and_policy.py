"""The clock's local date and area policy files."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eventkit.clock import local_date
from eventkit.policy import load_policies
from services.registry.policy import DEFAULTS, RegistryPolicy


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), date(2026, 1, 15)),  # GMT: the same date
        (datetime(2026, 7, 15, 23, 30, tzinfo=UTC), date(2026, 7, 16)),  # BST: already tomorrow
        (
            datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
            date(2026, 10, 25),
        ),  # still BST before the clocks go back
    ],
)
def test_today_is_the_date_in_england_and_wales(now: datetime, today: date) -> None:
    assert local_date(now) == today


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review_weeks: int = Field(ge=1)
    window_days: int = Field(ge=0)


def test_an_area_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[defaults]\nreview_weeks = 16\nwindow_days = 14\n\n[areas.01]\nreview_weeks = 12\n")
    policies = load_policies(path, Example)
    assert policies.for_area("01") == Example(review_weeks=12, window_days=14)
    assert policies.for_area("02") == policies.defaults == Example(review_weeks=16, window_days=14)
    assert policies.for_area(None) == policies.defaults


@pytest.mark.parametrize(
    "areas",
    [
        "[areas.01]\nreview_weeks = 0\n",  # out of bounds
        "[areas.01]\nreveiw_weeks = 12\n",  # a misspelt name is an error, not silently ignored
    ],
)
def test_a_bad_override_fails_when_the_file_is_loaded(tmp_path: Path, areas: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[defaults]\nreview_weeks = 16\nwindow_days = 14\n\n" + areas)
    with pytest.raises(ValidationError):
        load_policies(path, Example)


def test_the_registry_ships_its_defaults() -> None:
    assert load_policies(DEFAULTS, RegistryPolicy).defaults.due_soon_days == 14
