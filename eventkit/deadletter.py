"""Dead-letter headers: where a message came from and why it could not be applied.

The reason never quotes the message: validation errors name the field and
the rule broken, not the value, so no personal data reaches the header.
"""

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from eventkit.errors import PermanentError
from schemas.catalogue import DEAD_LETTER_SUFFIX

ORIGINAL_TOPIC = "dlt-original-topic"
ORIGINAL_PARTITION = "dlt-original-partition"
ORIGINAL_OFFSET = "dlt-original-offset"
ERROR_CLASS = "dlt-error-class"
ERROR_MESSAGE = "dlt-error-message"
CONSUMER = "dlt-consumer"
ATTEMPTS = "dlt-attempts"
# On a replayed dead letter: the dead letter it came from (<dead-letter topic>/<partition>/<offset>).
REPLAY_OF = "mappa-replay-of"
MAX_REASON_CHARS = 1000
# Original headers copied to the dead letter; anything else (baggage, an
# agency's own headers) stays behind.
KEPT_HEADERS = frozenset({"traceparent", "tracestate", "content-type"})


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


def describe(error: BaseException) -> str:
    """A message for operators that names what was wrong, without quoting input.

    Only the kit's own errors, whose texts it writes itself, and validation
    errors (field and rule) are spelt out; any other error is named by class.
    """
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
        )
    if not isinstance(error, PermanentError):
        return f"{type(error).__name__} while applying the event; its text is withheld"
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        return f"{error}: {describe(cause)}"
    return str(error)


def dead_letter_headers(
    record: ConsumerRecord, error: BaseException, *, consumer: str, attempts: int
) -> dict[str, str]:
    headers = {
        name: value.decode("utf-8", "backslashreplace")
        for name, value in record.headers or ()
        if value is not None and (name in KEPT_HEADERS or name.startswith("ce_"))
    }
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
