"""Dead-letter headers: where a message came from and why it could not be applied.

The reason never quotes the message: validation errors name the field and
the rule broken, not the value, so no personal data reaches the header.
"""

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from schemas.catalogue import DEAD_LETTER_SUFFIX

ORIGINAL_TOPIC = "dlt-original-topic"
ORIGINAL_PARTITION = "dlt-original-partition"
ORIGINAL_OFFSET = "dlt-original-offset"
ERROR_CLASS = "dlt-error-class"
ERROR_MESSAGE = "dlt-error-message"
CONSUMER = "dlt-consumer"
ATTEMPTS = "dlt-attempts"
MAX_REASON_CHARS = 1000


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


def describe(error: BaseException) -> str:
    """A message for operators that names what was wrong, without quoting input."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
        )
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        return f"{error}: {describe(cause)}"
    return str(error)


def dead_letter_headers(
    record: ConsumerRecord, error: BaseException, *, consumer: str, attempts: int
) -> dict[str, str]:
    headers = {k: v.decode("utf-8", "backslashreplace") for k, v in (record.headers or ()) if k}
    headers.update(
        {
            ORIGINAL_TOPIC: record.topic,
            ORIGINAL_PARTITION: str(record.partition),
            ORIGINAL_OFFSET: str(record.offset),
            ERROR_CLASS: type(error).__name__,
            ERROR_MESSAGE: describe(error)[:MAX_REASON_CHARS],
            CONSUMER: consumer,
            ATTEMPTS: str(attempts),
        }
    )
    return headers
