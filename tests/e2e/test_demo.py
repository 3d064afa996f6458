"""A newcomer's first run: the demo's own tokens and curl lines read the nominal and the meeting it made."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar

ROOT = Path(__file__).resolve().parents[2]


def _pasted(assignment: str, curl: str) -> tuple[str, str]:
    """Runs a printed ``NAME=token`` line and a printed curl line in a shell: the body and the status."""
    read = subprocess.run(
        ["bash", "-c", f'{assignment}\n{curl} -s -w "\\n%{{http_code}}"'],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    body, status = read.stdout.rsplit("\n", 1)
    return body, status


def test_the_demo_prints_a_token_and_a_curl_line_that_reads_the_first_nominal(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MAPPA_AUTH_JWT_KEY"}
    env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    data = tmp_path / "var"
    demo = subprocess.Popen(
        [sys.executable, "-m", "deploy.demo", "--data-dir", str(data)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert demo.stdout is not None
    printed: list[str] = []
    try:
        # The demo exits by itself if its scenario fails, which ends this loop too.
        for line in demo.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("platform running"):
                break
        assert printed[-1].startswith("platform running"), "\n".join(printed)
        assert (
            "MAPPA_AUTH_JWT_KEY is not set: the services check tokens with a key made for this run" in printed
        )
        [token] = [line.strip() for line in printed if line.strip().startswith("TOKEN=")]
        [coordinator] = [line.strip() for line in printed if line.strip().startswith("COORDINATOR=")]
        nominal_curl, meetings_curl, invite_curl, inbox_curl = [
            line.strip() for line in printed if line.strip().startswith("curl ")
        ]
        # The lines exactly as printed, pasted into a shell.
        body, status = _pasted(token, nominal_curl)
        assert status == "200", body
        nominal = json.loads(body)
        assert nominal_curl.endswith(f"/nominals/{nominal['platform_id']}")
        assert (nominal["category"], nominal["mappa_status"]) == (1, "active")
        # The level 3 case's first meeting, scheduled by the demo as the area's co-ordinator.
        body, status = _pasted(coordinator, meetings_curl)
        assert status == "200", body
        [meeting] = json.loads(body)
        assert (meeting["level"], meeting["kind"], meeting["status"]) == (3, "first", "scheduled")
        body, status = _pasted(coordinator, invite_curl)
        assert status == "200", body
        invite = Calendar.from_ical(body)
        assert invite["METHOD"] == "REQUEST"
        assert invite_curl.endswith(f"/meetings/{meeting['meeting_id']}/invite.ics")
        # The co-ordinator was told to schedule that meeting, in their inbox.
        body, status = _pasted(coordinator, inbox_curl)
        assert status == "200", body
        assert "meeting-required" in {n["kind"] for n in json.loads(body)}
        # Every attendee and the chair were emailed the invitation, with its calendar.
        invited = [line for line in printed if "meeting, case" in line and "[+ calendar]" in line]
        assert len(invited) >= 3, "\n".join(printed)
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(60)
    # A normal start shows a newcomer no errors.
    for log in sorted(data.glob("*.log")):
        assert " ERROR " not in log.read_text(), log.name
