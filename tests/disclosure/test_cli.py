"""``bodycam disclosure`` end to end, through the command line only. Both engines."""

from __future__ import annotations

import json

from .conftest import TEST_CLOCK


def test_a_request_from_intake_to_appeal(home, clips, tmp_path):
    rid = json.loads(
        home(
            "ingest", str(clips(81)), "--officer", "501", "--tag", "cad:E-5", "--json", user="ofc"
        ).stdout
    )["id"]
    # Clip 81 was recorded at 17:00 UTC on 4 March 2026.
    made = home(
        "disclosure", "request", "new",
        "--requester", "Dana Reporter", "--type", "media", "--contact", "dana@example.org",
        "--description", "Body-camera footage of the arrest on Elm St",
        "--from", "2026-03-04T16:30:00+00:00", "--to", "2026-03-04T18:00:00+00:00",
        "--officer", "501", "--event", "E-5", "--location", "Elm St",
        "--received", "2026-03-05", "--json",
        user="clerk",
    )  # fmt: skip
    req = json.loads(made.stdout)
    number = req["number"]
    assert number.startswith("R-") and req["status"] == "received"
    assert req["deadlines"]["received"] == "2026-03-05"
    # US clock: 5 business days from Thu 5 Mar: 6, 9, 10, 11, 12.
    assert req["deadlines"]["acknowledge_due"] == "2026-03-12"

    found = json.loads(
        home("disclosure", "request", "search", number, "--json", user="clerk").stdout
    )
    (cand,) = found["candidates"]
    assert cand["id"] == rid and "event E-5: tagged cad:E-5" in cand["reasons"]
    assert found["without_location"] == 0  # Elm St is not in its title: kept by the event
    text = home("disclosure", "request", "search", number, user="clerk").stdout
    assert "1 candidate(s)" in text

    attached = home("disclosure", "request", "attach", number, rid, user="clerk").stdout
    assert f"1 recording(s) attached to {number}" in attached

    wrong = home("disclosure", "request", "status", number, "searching", user="clerk", check=1)
    assert "it can go to acknowledged, denied or withdrawn, not searching" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    for step in ("acknowledged", "searching", "review"):
        home("disclosure", "request", "status", number, step, "--note", f"to {step}", user="clerk")
    bare = home(
        "disclosure", "request", "status", number, "released_partial", user="clerk", check=1
    )
    assert "needs the exemption cited" in bare.stderr
    done = home(
        "disclosure", "request", "status", number, "released_partial",
        "--exemption", "POL 87(2)(b): bystander faces", user="clerk",
    )  # fmt: skip
    assert f"Request {number} is now released_partial; its automatic holds are released." in (
        done.stdout
    )

    shown = home("disclosure", "request", "show", number, user="aud").stdout
    assert "released_partial" in shown and "exemption: POL 87(2)(b)" in shown
    assert "recordings attached: 1" in shown and "review -> released_partial" in shown
    closed = [
        json.loads(line)["number"]
        for line in home(
            "disclosure", "request", "list", "--status", "closed", "--json", user="aud"
        ).stdout.splitlines()
    ]
    assert closed == [number]

    filed = home(
        "disclosure", "appeal", "file", number, "--grounds", "too much blurred", user="clerk"
    )
    assert "Its footage is held until the appeal is decided" in filed.stdout
    decided = home(
        "disclosure", "appeal", "decide", number, "--outcome", "partly", "--note", "unblur the car",
        user="clerk",
    )  # fmt: skip
    assert "decided: partly; the request is searching" in decided.stdout
    ext = home(
        "disclosure", "request", "extend", number, "--days", "3", "--reason", "re-redaction",
        "--json", user="clerk",
    )  # fmt: skip
    assert json.loads(ext.stdout)["deadlines"]["extension_days"] == 3
    over = home(
        "disclosure", "request", "extend", number, "--days", "8", "--reason", "x",
        user="clerk", check=1,
    )  # fmt: skip
    assert "has used 3 of the 10 business days" in over.stderr

    gone = home("disclosure", "request", "detach", number, rid, "--reason", "wrong", user="clerk")
    assert f"1 recording(s) detached from {number}" in gone.stdout

    report = json.loads(home("disclosure", "report", "--json", user="aud").stdout)
    assert report["total"] == 1 and report["open"] == 1
    assert report["appeals"]["outcomes"]["partly"] == 1
    assert "Public-records requests as of" in home("disclosure", "report", user="aud").stdout
    listed = home("disclosure", "request", "list", user="clerk").stdout
    assert number in listed

    lines = home("audit", "trail", rid, user="aud").stdout.splitlines()
    trail = [json.loads(line)["action"] for line in lines]
    assert [a for a in trail if a.startswith("disclosure:")] == [
        "disclosure:recording:attach",
        "disclosure:recording:detach",
    ]
    # Held on attach, released on the release, held again for the appeal, released on detach.
    assert [a for a in trail if a.startswith("retention:hold")] == [
        "retention:hold:place",
        "retention:hold:release",
        "retention:hold:place",
        "retention:hold:release",
    ]


def test_clock_commands(home, tmp_path):
    exported = home("disclosure", "clock", "export", user="clerk").stdout
    assert '[jurisdictions."US-NY"]' in exported
    versions = home("disclosure", "clock", "versions", user="chief").stdout
    assert "built-in example is in force" in versions
    path = tmp_path / "clock.toml"
    path.write_text(TEST_CLOCK, encoding="utf-8")
    denied = home("disclosure", "clock", "import", str(path), user="clerk", check=3)
    assert "may not change the disclosure clocks" in denied.stderr
    done = home("disclosure", "clock", "import", str(path), "--note", "ours", user="chief")
    assert "Clocks version 1" in done.stdout and "default T" in done.stdout
    out = tmp_path / "out.toml"
    home("disclosure", "clock", "export", str(out), user="chief")
    assert out.read_text(encoding="utf-8") == TEST_CLOCK
    (line,) = home("disclosure", "clock", "versions", "--json", user="aud").stdout.splitlines()
    assert json.loads(line)["note"] == "ours"
    bad = tmp_path / "bad.toml"
    bad.write_text(TEST_CLOCK.replace("acknowledge_days = 2", "acknowledge_days = -1"))
    wrong = home("disclosure", "clock", "import", str(bad), user="chief", check=1)
    assert "Jurisdiction T: acknowledge_days must be a whole number >= 1." in wrong.stderr
    gone = home("disclosure", "clock", "import", str(tmp_path / "no.toml"), user="chief", check=1)
    assert "cannot be read" in gone.stderr


def test_bad_input_and_refusals_are_sentences(home):
    base = ["disclosure", "request", "new", "--requester", "P", "--description", "x"]
    cases = [
        ([*base, "--from", "yesterday", "--to", "2026-03-01"], "--from 'yesterday' is not a date"),
        ([*base, "--type", "robot"], "Unknown requester type 'robot'"),
        ([*base, "--officer", "999"], "No officer has badge 999."),
        ([*base, "--jurisdiction", "XX"], "There is no jurisdiction 'XX'"),
        (["disclosure", "request", "show", "R-2026-000404"], "There is no request R-2026-000404."),
        (["disclosure", "request", "list", "--status", "lost"], "Unknown status 'lost'"),
        (["disclosure", "appeal", "decide", "R-1", "--outcome", "maybe"], "Unknown appeal outcome"),
    ]
    for args, message in cases:
        p = home(*args, user="clerk", check=1)
        assert message in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr
    refused = home(*base, user="ofc", check=3)
    assert "may not log public-records requests" in refused.stderr
    assert home("disclosure", "report", user="ofc", check=3).returncode == 3
