"""Errors that say a message itself is wrong, so retrying cannot help; and a step the rules refuse."""

from dataclasses import dataclass


class PermanentError(Exception):
    """The message can never be applied; it goes straight to the dead-letter topic."""


class OversizedMessage(PermanentError):
    pass


class InvalidMessage(PermanentError):
    pass


class UnknownEventType(PermanentError):
    pass


class WrongTopic(PermanentError):
    pass


class RefusedByRule(PermanentError):
    """A valid event the domain's rules refuse (a level 3 decision without a senior officer, say).

    Its text is the rule's own words, never the event's content.
    """


@dataclass(frozen=True)
class Refused:
    """A step the domain's rules do not allow; nothing changes.

    ``authority`` when it is about who acts (a level 3 decision without a
    senior officer), rather than about the state of the case. Its reason is
    the rule's own words: an API answers with it, and an event it refuses
    is dead-lettered with it (``RefusedByRule``).
    """

    reason: str
    authority: bool = False
