"""Writes the JSON Schema documents agency systems in other languages use.

One file per event type describes the whole CloudEvents message (envelope
and data), plus ``catalogue.json`` for the topics. Run ``python -m
schemas.generate``; a test fails while the committed files are stale.
"""

import json
from pathlib import Path
from typing import Any

from schemas.catalogue import EVENT_MODELS, TOPIC_OF_EVENT, TOPICS, Topic
from schemas.envelope import EVENT_TYPE_PATTERN, schema_uri

OUT_DIR = Path(__file__).parent / "json"


def event_schema(event_type: str) -> dict[str, Any]:
    data = EVENT_MODELS[event_type].model_json_schema(mode="validation")
    defs = data.pop("$defs", {})
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_uri(event_type),
        "title": event_type,
        "description": (
            f"CloudEvents 1.0 structured JSON message on topic "
            f"{TOPIC_OF_EVENT[event_type].name}. {data.get('description', '')}"
        ).strip(),
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1, "maxLength": 128},
            "source": {"type": "string", "minLength": 1, "maxLength": 256},
            "type": {"const": event_type, "pattern": EVENT_TYPE_PATTERN},
            "subject": {"type": "string", "maxLength": 128},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "dataschema": {"const": schema_uri(event_type)},
            "data": data,
        },
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _dead_letterers(topic: Topic) -> dict[str, str]:
    """Who dead-letters what ("*": anything not listed); each message is dead-lettered once."""
    if not topic.consumers:
        return {}
    owner = topic.dead_lettered_by(None)
    others = {t: c for t in sorted(topic.event_types) if (c := topic.dead_lettered_by(t)) != owner}
    return {"*": owner} | others


def catalogue() -> dict[str, Any]:
    return {
        "topics": [
            {
                "name": topic.name,
                "key": topic.key,
                "producer": topic.producer,
                "consumers": list(topic.consumers),
                "event_types": sorted(topic.event_types),
                "dead_letter_topic": topic.dead_letter,
                "dead_lettered_by": _dead_letterers(topic),
            }
            for topic in TOPICS
        ]
    }


def rendered() -> dict[str, str]:
    """File name -> content, exactly as committed."""
    files = {f"{t}.json": _dump(event_schema(t)) for t in sorted(EVENT_MODELS)}
    files["catalogue.json"] = _dump(catalogue())
    return files


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    wanted = rendered()
    for stale in OUT_DIR.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    for name, content in wanted.items():
        (OUT_DIR / name).write_text(content)
    print(f"wrote {len(wanted)} files to {OUT_DIR}")


if __name__ == "__main__":
    main()
