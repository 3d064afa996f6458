"""Errors that say a message itself is wrong, so retrying cannot help."""


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
