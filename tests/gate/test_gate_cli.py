"""`lucia-bot gate` as a real process, as Render's pre-deploy command runs it: exit 0 on GO,
1 on NO-GO, 2 when there is no verdict; `--format json` in its documented shape."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from tests.drivers.gate import ANA, gate_cli, gate_runtime, json_contract, lucia_yaml

CUMULATIVE = """\
owners:
  owner:
    name: Ana Lucia
    slack: U01ALICE00
gate:
  phases:
    staging:
      items: [backups]
    go-live:
      items: [incidents]
"""


async def test_without_phases_there_is_no_verdict_and_it_says_what_to_add(
    tmp_path: Path, postgres_url: str
) -> None:
    cfg = lucia_yaml(tmp_path, "owners:\n  owner:\n    name: Ana Lucia\n")
    code, out, err = await gate_cli(tmp_path, postgres_url, cfg, "--format", "json")

    assert code == 2, err
    assert out == ""
    assert err.strip() == (
        "lucia-bot gate: No launch-gate phases are configured: add `gate:` → `phases:` to "
        "lucia.yaml (lucia.example.yaml has staging and go-live)."
    )


async def test_no_go_exits_1_with_every_phase_up_to_the_one_asked(
    tmp_path: Path, postgres_url: str
) -> None:
    cfg = lucia_yaml(tmp_path, CUMULATIVE)
    code, out, err = await gate_cli(
        tmp_path, postgres_url, cfg, "--phase", "go-live", "--format", "json"
    )

    assert code == 1, err
    doc = json.loads(out)
    json_contract(doc)
    assert (doc["phase"], doc["verdict"], doc["exceptions"]) == ("go-live", "NO-GO", [])
    assert [(p["name"], p["verdict"]) for p in doc["phases"]] == [
        ("staging", "NO-GO"),
        ("go-live", "NO-GO"),
    ]
    (backups,) = doc["phases"][0]["items"]
    assert (backups["item"], backups["verdict"]) == ("backups", "unknown")
    assert backups["reason"].startswith("not configured: set SUPABASE_ACCESS_TOKEN")
    (incidents,) = doc["phases"][1]["items"]
    assert (incidents["item"], incidents["verdict"], incidents["refresh"]) == (
        "incidents",
        "pass",
        "/lucia gate",
    )


async def test_go_exits_0_when_the_only_item_passes(tmp_path: Path, postgres_url: str) -> None:
    cfg = lucia_yaml(tmp_path, "gate:\n  phases:\n    go-live:\n      items: [incidents]\n")
    code, out, err = await gate_cli(tmp_path, postgres_url, cfg, "--format", "json")

    assert code == 0, err
    doc = json.loads(out)
    json_contract(doc)
    assert (doc["phase"], doc["verdict"]) == ("go-live", "GO")
    assert doc["phases"][0]["items"][0]["verdict"] == "pass"


async def test_go_with_the_owners_exceptions_exits_0_and_lists_them(
    tmp_path: Path, postgres_url: str
) -> None:
    cfg = lucia_yaml(tmp_path, CUMULATIVE)
    async with gate_runtime(postgres_url, cfg) as gate:  # the real clock: the CLI's
        await gate.run("gate except go-live backups --for 2d support enables PITR", ANA)
    code, out, err = await gate_cli(tmp_path, postgres_url, cfg, "--format", "json")

    assert code == 0, err
    doc = json.loads(out)
    json_contract(doc)
    assert (doc["phase"], doc["verdict"]) == ("go-live", "GO")
    (exception,) = doc["exceptions"]
    assert (exception["items"], exception["recorded_by"], exception["reason"]) == (
        ["backups"],
        ANA,
        "support enables PITR",
    )
    assert doc["phases"][0]["items"][0]["verdict"] == "unknown"  # excused, still shown


async def test_an_unreachable_database_exits_2_saying_why(tmp_path: Path) -> None:
    cfg = lucia_yaml(tmp_path, "gate:\n  phases:\n    go-live:\n      items: [incidents]\n")
    nowhere = "postgresql://postgres@127.0.0.1:9/lucia"  # nothing listens there
    code, out, err = await gate_cli(tmp_path, nowhere, cfg, "--format", "json")

    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith("lucia-bot gate: ")
    assert "127.0.0.1" in err
    assert "Traceback" not in err


async def test_a_database_failing_during_the_evaluation_exits_2_not_no_go(
    tmp_path: Path, postgres_url: str
) -> None:
    """The database goes wrong after the start (here its evaluations table is gone): there
    is no verdict, which is exit 2; 1 would tell a deploy pipeline it was judged NO-GO."""
    cfg = lucia_yaml(tmp_path, "gate:\n  phases:\n    go-live:\n      items: [incidents]\n")
    async with gate_runtime(postgres_url, cfg) as gate, gate.runtime.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE gate_evaluations"))
    code, out, err = await gate_cli(tmp_path, postgres_url, cfg, "--format", "json")

    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith("lucia-bot gate: ")
