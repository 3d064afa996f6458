"""What a notification says: the route's Jinja2 templates over the event's fields, and the email around it.

Templates see only the event's fields, which carry ids, dates, levels and
roles (the contracts keep names, offences and minutes out of events), and
render in a sandbox that refuses an unknown field rather than printing
nothing.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from eventkit.clock import LOCAL
from services.notifications.policy import Route


@dataclass(frozen=True)
class Content:
    subject: str
    action: str
    due: str | None


def _london(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%a %d %b %Y %H:%M (UK time)")


def _london_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


_env = SandboxedEnvironment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=StrictUndefined,
    autoescape=False,  # plain-text email and JSON built separately; nothing here is HTML
    keep_trailing_newline=True,
)
_env.filters.update(london=_london, london_date=_london_date)


def render(route: Route, fields: Mapping[str, Any]) -> Content:
    """The route's subject, action and date to act by, for an event with these fields."""
    return Content(
        subject=_line(route.subject, fields),
        action=_line(route.action, fields),
        due=_line(route.due, fields) if route.due else None,
    )


def _line(template: str, fields: Mapping[str, Any]) -> str:
    return " ".join(_compiled(template).render(fields).split())


@functools.lru_cache(maxsize=512)
def _compiled(template: str) -> Template:
    # Compiling costs far more than rendering: each route's few templates are compiled once.
    return _env.from_string(template)


def email_body(content: Content, *, notification_id: str, escalated: bool, calendar: bool) -> str:
    return _env.get_template("email.txt.j2").render(
        content=content, notification_id=notification_id, escalated=escalated, calendar=calendar
    )
