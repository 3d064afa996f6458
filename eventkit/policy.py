"""Policy a MAPPA area may change: defaults with their sources, and per-area overrides, from a TOML file.

The file has a ``[defaults]`` table and one ``[areas.<code>]`` table per
area that overrides any default. Every area's merged values are checked
against the service's policy model when the file is loaded, so a bad
override stops the service at start rather than at the first case.
"""

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from eventkit.settings import Settings

P = TypeVar("P", bound=BaseModel)


class AreaPolicies(Generic[P]):
    def __init__(self, defaults: P, overrides: Mapping[str, P]) -> None:
        self.defaults = defaults
        self._overrides = dict(overrides)

    def for_area(self, area: str | None) -> P:
        return self._overrides.get(area or "", self.defaults)

    def all(self) -> list[P]:
        """The defaults and every area's policy: for bounds that must hold in every area."""
        return [self.defaults, *self._overrides.values()]


def service_policies(settings: Settings, model: type[P], shipped: Path) -> AreaPolicies[P]:
    """The service's policies: its ``MAPPA_<SERVICE>_POLICY_FILE``, or the file it ships with."""
    return load_policies(settings.own.policy_file or shipped, model)


def load_policies(path: Path, model: type[P]) -> AreaPolicies[P]:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults: dict[str, Any] = data.get("defaults", {})
    areas: dict[str, dict[str, Any]] = data.get("areas", {})
    return AreaPolicies(
        model.model_validate(defaults),
        {area: model.model_validate(_merged(defaults, values)) for area, values in areas.items()},
    )


def _merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` with ``overrides`` laid over them, table by table."""
    merged = dict(defaults)
    for key, value in overrides.items():
        inner = merged.get(key)
        merged[key] = _merged(inner, value) if isinstance(inner, dict) and isinstance(value, dict) else value
    return merged
