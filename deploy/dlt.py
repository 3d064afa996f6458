"""Dead letters from the command line: ``python -m deploy.dlt list|show|payload|replay|discard``.

A client of the operations service's dead-letter API, so the CLI and the
dashboard share one set of rules: operations staff only, the message
itself only for a stated purpose (audited), a replay applied once by the
consumer that dead-lettered it, a discard with its reason. The token comes
from ``MAPPA_TOKEN`` (or ``--token``): an operations user's bearer token.

    python -m deploy.dlt list
    python -m deploy.dlt show agency.police.v1.dlt/3/17
    python -m deploy.dlt payload agency.police.v1.dlt/3/17 --purpose "INC-42: why was it refused"
    python -m deploy.dlt replay agency.police.v1.dlt/3/17 --reason "referral MAPPA-A-1 has arrived"
    python -m deploy.dlt discard agency.police.v1.dlt/3/17 --reason "sent twice by the agency"
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import httpx

from eventkit.auth import PURPOSE_HEADER
from eventkit.settings import DEFAULT_HTTP_PORTS

DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_HTTP_PORTS['operations']}"
API = "/api/dead-letters"
COLUMNS = ("place", "dead_lettered_at", "consumer", "error_class", "event_type", "decision")


def _place(value: str) -> tuple[str, int, int]:
    topic, _, rest = value.rpartition("/")
    topic, _, partition = topic.rpartition("/")
    if not (topic and partition.isdigit() and rest.isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not <dead-letter topic>/<partition>/<offset>")
    return topic, int(partition), int(rest)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.dlt", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("MAPPA_OPERATIONS_URL", DEFAULT_URL))
    parser.add_argument("--token", default=os.environ.get("MAPPA_TOKEN"), help="default: MAPPA_TOKEN")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="dead letters, newest first")
    listing.add_argument("--all", action="store_true", help="decided ones too, not only those waiting")
    listing.add_argument("--topic", help="one dead-letter topic, e.g. agency.police.v1.dlt")
    listing.add_argument("--json", action="store_true")
    for name, text in (("show", "where it came from and why it was dead-lettered"),
                       ("payload", "the message itself (audited)"),
                       ("replay", "publish it again to its original topic, once"),
                       ("discard", "never apply it")):  # fmt: skip
        command = commands.add_parser(name, help=text)
        command.add_argument("place", type=_place, help="<dead-letter topic>/<partition>/<offset>")
        if name == "payload":
            command.add_argument("--purpose", required=True, help="why you need to read it (recorded)")
        if name in ("replay", "discard"):
            command.add_argument("--reason", required=True, help="what was fixed, or why it is dropped")
    return parser


def _table(rows: list[dict[str, Any]]) -> str:
    widths = {c: max([len(c), *(len(str(r.get(c) or "")) for r in rows)]) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines += ["  ".join(str(r.get(c) or "").ljust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.token:
        parser.exit(2, "a token is needed: set MAPPA_TOKEN or pass --token\n")
    headers = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30) as http:
        if args.command == "list":
            params = {"state": "all" if args.all else "open", **({"topic": args.topic} if args.topic else {})}
            response = http.get(API, params=params)
        else:
            topic, partition, offset = args.place
            path = f"{API}/{topic}/{partition}/{offset}"
            if args.command == "show":
                response = http.get(path)
            elif args.command == "payload":
                response = http.get(f"{path}/payload", headers={PURPOSE_HEADER: args.purpose})
            else:
                response = http.post(f"{path}/{args.command}", json={"reason": args.reason})
    if response.status_code >= 400:
        detail = response.json().get("detail") if "json" in response.headers.get("content-type", "") else None
        sys.stderr.write(f"{args.command} refused ({response.status_code}): {detail or response.text}\n")
        return 1
    body = response.json()
    if args.command == "list" and not args.json:
        sys.stdout.write(_table(body) + "\n")
    elif args.command == "payload":
        sys.stdout.write(body["payload"] + "\n")
    else:
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
