"""What `/lucia gate …` answers to bad input: what was wrong, and the right form, never a
stack trace. Words the grammar can judge alone are refused before the gate runs; names
only the configuration knows (phases, items) are refused by the gate, naming those it has."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import CommandError, UserError
from bot.gate.commands import USAGE
from bot.gate.model import Verdict
from bot.grammar import parse
from bot.store.tables import gate_exceptions, gate_signoffs
from tests.drivers.core import FakeClock
from tests.drivers.gate import ANA, gate_runtime, item, lucia_yaml

FORM = USAGE["gate"]
CONFIG = """\
owners:
  owner:
    name: Ana Lucia
    slack: U01ALICE00
gate:
  phases:
    staging:
      items: [incidents, alert_pipeline]
      signoffs:
        security-review:
          roles: [owner]
    go-live:
      items: [backups]
"""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("gate sign", "Which item? (`/lucia gate` lists them)"),
        ("gate sign security-review", "Say what you checked."),
        ("gate sign security-review --for soon checked", "`--for soon` isn't like 12h or 30d."),
        ("gate except go-live", "Name the phase and the items it goes ahead without."),
        ("gate except go-live backups", "Say why it may go ahead without them."),
        (
            "gate test-page nobody",
            "`nobody` isn't a role: owner, infra, dns, billing, fallback or all.",
        ),
        ("gate unsign", "Which item?"),
        ("gate unexcept", "Which phase?"),
    ],
)
def test_bad_gate_input_says_what_was_wrong_and_the_right_form(text: str, problem: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse(text)

    assert refused.value.problem == problem
    assert refused.value.usage == FORM
    assert str(refused.value) == f"{problem}\nUsage: `{FORM}`"


async def test_names_the_configuration_lacks_are_refused_naming_those_it_has(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    asked = {
        "gate bogus-phase": ("There is no phase `bogus-phase`: the phases are staging, go-live."),
        "gate history bogus-phase": (
            "There is no phase `bogus-phase`: the phases are staging, go-live."
        ),
        "gate sign waf-review done": (
            "`waf-review` isn't an item anyone signs: those are security-review."
        ),
        "gate except staging backups support is on it": (
            "backups isn't an item of staging or a phase before it (those are alert_pipeline, "
            "incidents, security-review)."
        ),
        "gate except go-live backups --for 40d support is on it": (
            "An exception lasts at most 30 days: record a new one then."
        ),
        "gate except bogus-phase backups support is on it": (
            "There is no phase `bogus-phase`: the phases are staging, go-live."
        ),
    }
    answers = {}
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        for text in asked:
            with pytest.raises(UserError) as refused:
                await gate.run(text, actor=ANA)
            answers[text] = str(refused.value)
        stored = (await gate.rows(gate_signoffs), await gate.rows(gate_exceptions))

    assert answers == asked
    assert stored == ([], [])


async def test_the_alert_pipeline_is_unknown_until_a_trace_has_run(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        result = item(await gate.check("staging"), "alert_pipeline")

    assert result.verdict is Verdict.UNKNOWN
    assert result.reason == "no trace has run: `/lucia gate trace`"
    assert result.refresh == "/lucia gate trace"
