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
