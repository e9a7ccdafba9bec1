"""The `/lucia` grammar: every form in the design parses to its typed command, and bad input
gets a `CommandError` that names the problem and shows the right form."""

from __future__ import annotations

import pytest

from bot.errors import CommandError
from bot.grammar import Command, parse
from bot.incidents.commands import (
    Acknowledge,
    AddNote,
    Help,
    ListIncidents,
    Mitigate,
    OpenIncident,
    PostUpdate,
    Reopen,
    Resolve,
    SetLead,
    SetSeverity,
    SetStatus,
    ShowIncident,
)
from bot.incidents.model import Status
from bot.postmortem.commands import AddFollowUp, ExportPostmortem, ListFollowUps
from bot.vocabulary import Severity

SEV1, SEV2, SEV3, SEV4 = Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # help and nothing at all
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("incident help", Help()),
        # open
        ("incident open", OpenIncident(title=None, severity=None)),
        ("incident open sev2", OpenIncident(title=None, severity=SEV2)),  # the form, sev2 set
        (
            "incident open R&amp;D &lt;api&gt; down <!channel> <@U01BOBBY00|bob>",
            OpenIncident("R&D <api> down @channel @bob", None),
        ),
        ("incident open Checkout is down", OpenIncident("Checkout is down", None)),
        ("incident open sev2 Checkout is down", OpenIncident("Checkout is down", SEV2)),
        ("incident open SEV2 Checkout is down", OpenIncident("Checkout is down", SEV2)),
        ("incident open sev-1 Checkout is down", OpenIncident("Checkout is down", SEV1)),
        ("incident open sev4   Checkout   is  down ", OpenIncident("Checkout is down", SEV4)),
        ("incident open severe latency on API", OpenIncident("severe latency on API", None)),
        ("incident open Severe latency", OpenIncident("Severe latency", None)),
        # list
        ("incident list", ListIncidents(include_closed=False)),
        ("incident list --all", ListIncidents(include_closed=True)),
        # show / timeline
        ("incident show", ShowIncident(None, with_timeline=False)),
        ("incident show #12", ShowIncident(12, with_timeline=False)),
        ("incident timeline", ShowIncident(None, with_timeline=True)),
        ("incident timeline #12", ShowIncident(12, with_timeline=True)),
        # ack
        ("incident ack", Acknowledge(None)),
        ("incident ack #7", Acknowledge(7)),
        # update
        ("incident update Rolling back deploy", PostUpdate(None, "Rolling back deploy")),
        ("incident update #7 Rolling back deploy", PostUpdate(7, "Rolling back deploy")),
        ("incident update #7: db is back", PostUpdate(7, "db is back")),
        ("incident update #7, db is back", PostUpdate(7, "db is back")),
        ("incident note inc-5 had it too", AddNote(5, "had it too")),  # INC-5 names it
        (
            "incident note see <https://x.io/log|the log>",
            AddNote(None, "see the log (https://x.io/log)"),
        ),
        # status: each working status, with and without text
        ("incident status investigating", SetStatus(None, Status.INVESTIGATING, "")),
        (
            "incident status identified bad index on orders",
            SetStatus(None, Status.IDENTIFIED, "bad index on orders"),
        ),
        (
            "incident status #7 monitoring fix is out",
            SetStatus(7, Status.MONITORING, "fix is out"),
        ),
        ("incident status IDENTIFIED", SetStatus(None, Status.IDENTIFIED, "")),
        # sev
        ("incident sev 2", SetSeverity(None, SEV2)),
        ("incident sev sev2", SetSeverity(None, SEV2)),
        ("incident sev SEV1", SetSeverity(None, SEV1)),
        ("incident sev #7 3", SetSeverity(7, SEV3)),
        ("incident sev 3 #7", SetSeverity(7, SEV3)),
        # lead: Slack escapes mentions, with or without the name
        ("incident lead <@U01BOBBY00>", SetLead(None, "U01BOBBY00")),
        ("incident lead <@U01BOBBY00|bob>", SetLead(None, "U01BOBBY00")),
        ("incident lead #7 <@U01BOBBY00|bob>", SetLead(7, "U01BOBBY00")),
        ("incident lead <@U01BOBBY00> #7", SetLead(7, "U01BOBBY00")),
        # note
        ("incident note Pager was silent", AddNote(None, "Pager was silent")),
        ("incident note #7 Pager was silent", AddNote(7, "Pager was silent")),
        # mitigated / resolve / reopen
        ("incident mitigated", Mitigate(None)),
        ("incident mitigated #7", Mitigate(7)),
        ("incident resolve", Resolve(None, "")),
        ("incident resolve #7", Resolve(7, "")),
        ("incident resolve Reverted the bad deploy", Resolve(None, "Reverted the bad deploy")),
        ("incident resolve #7 Reverted the bad deploy", Resolve(7, "Reverted the bad deploy")),
        ("incident reopen", Reopen(None)),
        ("incident reopen #7", Reopen(7)),
    ],
)
def test_each_form_parses_to_its_command(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_words_are_case_insensitive_but_titles_keep_their_case() -> None:
    assert parse("INCIDENT Open SEV3 Checkout Down") == OpenIncident("Checkout Down", SEV3)


def _error(text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "problem_mentions", "usage_starts"),
    [
        ("deploy now", ["deploy"], "/lucia help"),
        ("incident explode", ["explode"], "/lucia help"),
        ("incident open sev9 Checkout is down", ["sev9", "sev1", "sev4"], "/lucia incident open"),
        ("incident update #12a db back", ["#12a", "#N"], "/lucia incident update"),
        ("incident note #99999999999 hello", ["#9999999", "#N"], "/lucia incident note"),
        ("incident sev 2 3", ["3"], "/lucia incident sev"),
        ("incident ack #", ["#", "#N"], "/lucia incident ack"),
        ("incident open " + "x" * 5000, ["5,000", "150"], "/lucia incident open"),
        ("incident list everything", ["everything"], "/lucia incident list"),
        ("incident show #7 please", ["please"], "/lucia incident show"),
        ("incident lead @nobody", ["@nobody", "Mention"], "/lucia incident lead"),
        ("incident lead", ["lead"], "/lucia incident lead"),
        ("incident update", ["update"], "/lucia incident update"),
        ("incident update #7", ["update"], "/lucia incident update"),
        ("incident note", ["note"], "/lucia incident note"),
        ("incident note #7   ", ["note"], "/lucia incident note"),
        ("incident status mitigated", ["incident mitigated"], "/lucia incident status"),
        ("incident status resolved", ["incident resolve"], "/lucia incident status"),
        ("incident status bogus", ["bogus", "investigating"], "/lucia incident status"),
        ("incident status", ["status"], "/lucia incident status"),
        ("incident sev 9", ["`9`", "1", "4"], "/lucia incident sev"),
        ("incident sev", ["severity"], "/lucia incident sev"),
        ("incident sev #7 2 #8", ["#8"], "/lucia incident sev"),
        ("incident ack now please", ["now please"], "/lucia incident ack"),
        ("incident mitigated for real", ["for real"], "/lucia incident mitigated"),
        ("incident reopen it", ["it"], "/lucia incident reopen"),
    ],
)
def test_bad_input_names_the_problem_and_the_right_form(
    text: str, problem_mentions: list[str], usage_starts: str
) -> None:
    error = _error(text)
    for words in problem_mentions:
        assert words in error.problem
    assert error.usage.startswith(usage_starts)
    # What the person sees: the problem, then the right form.
    assert str(error) == f"{error.problem}\nUsage: `{error.usage}`"


@pytest.mark.parametrize(
    ("prefix", "usage_starts"),
    [
        ("incident update #7 ", "/lucia incident update"),
        ("incident note ", "/lucia incident note"),
        ("incident status identified ", "/lucia incident status"),
        ("incident resolve #7 ", "/lucia incident resolve"),
    ],
)
def test_text_over_the_limit_is_refused(prefix: str, usage_starts: str) -> None:
    assert parse(prefix + "x" * 2900)  # the limit itself is fine
    error = _error(prefix + "x" * 2901)
    assert "2,901" in error.problem
    assert "2,900" in error.problem
    assert error.usage.startswith(usage_starts)


def test_title_at_the_limit_is_fine() -> None:
    title = "x" * 150
    assert parse(f"incident open sev1 {title}") == OpenIncident(title, SEV1)
    assert "151" in _error(f"incident open sev1 {title}y").problem


def test_long_junk_is_clipped_in_the_message() -> None:
    error = _error("incident " + "z" * 500)
    assert len(error.problem) < 200
    assert "zzz" in error.problem


# --- naming an incident: INC-3, inc-3, #3 and (where nothing else could stand there) 3 ---

FORMS = ("INC-3", "inc-3", "Inc-3", "#3", "3")
NAMED = ("INC-3", "inc-3", "#3")  # a bare 3 there would be the command's own value


@pytest.mark.parametrize("ref", FORMS)
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("incident show {}", ShowIncident(3, with_timeline=False)),
        ("incident timeline {}", ShowIncident(3, with_timeline=True)),
        ("incident ack {}", Acknowledge(3)),
        ("incident acknowledge {}", Acknowledge(3)),
        ("incident mitigated {}", Mitigate(3)),
        ("incident reopen {}", Reopen(3)),
        ("incident resolve {}", Resolve(3, "")),
        ("incident status {} identified bad index", SetStatus(3, Status.IDENTIFIED, "bad index")),
        ("incident lead {} <@U01BOBBY00|bob>", SetLead(3, "U01BOBBY00")),
        ("incident lead <@U01BOBBY00> {}", SetLead(3, "U01BOBBY00")),
        ("postmortem {}", ExportPostmortem(3)),
        ("followup list {}", ListFollowUps(3)),
        ("followup {}", ListFollowUps(3)),
    ],
)
def test_every_form_names_the_incident(ref: str, template: str, expected: Command) -> None:
    assert parse(template.format(ref)) == expected


@pytest.mark.parametrize("ref", NAMED)
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("incident update {} db is back", PostUpdate(3, "db is back")),
        ("incident note {} pager was silent", AddNote(3, "pager was silent")),
        ("incident resolve {} reverted the deploy", Resolve(3, "reverted the deploy")),
        ("incident sev {} 2", SetSeverity(3, SEV2)),
        ("incident sev 2 {}", SetSeverity(3, SEV2)),
        ("incident sev {} sev1", SetSeverity(3, SEV1)),
        ("followup add {} page the DNS owner too", AddFollowUp(3, "page the DNS owner too", None)),
        (
            "followup add {} rotate the key <@U01BOBBY00>",
            AddFollowUp(3, "rotate the key", "U01BOBBY00"),
        ),
    ],
)
def test_inc_n_and_hash_n_name_the_incident_before_a_value(
    ref: str, template: str, expected: Command
) -> None:
    assert parse(template.format(ref)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # sev: a bare number is always the severity, never the incident
        ("incident sev 2", SetSeverity(None, SEV2)),
        ("incident sev 4", SetSeverity(None, SEV4)),
        # free text keeps a leading number as text ...
        ("incident update 3 pods restarted", PostUpdate(None, "3 pods restarted")),
        ("incident note 2 customers wrote in", AddNote(None, "2 customers wrote in")),
        ("incident resolve 3 replicas back", Resolve(None, "3 replicas back")),
        ("followup add 2 alerts should page", AddFollowUp(None, "2 alerts should page", None)),
        (
            "incident status identified 3 bad hosts",
            SetStatus(None, Status.IDENTIFIED, "3 bad hosts"),
        ),
        # ... unless the number is the whole text: then it can only be the incident
        ("incident resolve 3", Resolve(3, "")),
        ("incident resolve INC-3:", Resolve(3, "")),
        # punctuation after the name, leading zeros, and the biggest number there can be
        ("incident update INC-3: db is back", PostUpdate(3, "db is back")),
        ("incident note inc-3, db is back", AddNote(3, "db is back")),
        ("incident ack #007", Acknowledge(7)),
        ("incident ack 999999999", Acknowledge(999_999_999)),
        ("incident ack INC-0000000012", Acknowledge(12)),
        # words that only look a little like a name are text
        ("incident note incoming traffic doubled", AddNote(None, "incoming traffic doubled")),
        ("incident note INC3 is a typo", AddNote(None, "INC3 is a typo")),
    ],
)
def test_a_bare_number_is_the_incident_only_where_nothing_else_could_be(
    text: str, expected: Command
) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem", "usage_starts"),
    [
        (
            "incident show INC-",
            "`INC-` isn't an incident number: write it as INC-N, for example INC-12.",
            "/lucia incident show",
        ),
        (
            "incident ack INC-x",
            "`INC-x` isn't an incident number: write it as INC-N, for example INC-12.",
            "/lucia incident ack",
        ),
        (
            "incident update inc-3a db back",
            "`inc-3a` isn't an incident number: write it as INC-N, for example INC-12.",
            "/lucia incident update",
        ),
        (
            "incident ack #",
            "`#` isn't an incident number: write it as #N, for example #12.",
            "/lucia incident ack",
        ),
        (
            "incident ack #0",
            "`#0` isn't an incident number: they start at #1.",
            "/lucia incident ack",
        ),
        (
            "incident show 0",
            "`0` isn't an incident number: they start at #1.",
            "/lucia incident show",
        ),
        (
            "incident reopen INC-000",
            "`INC-000` isn't an incident number: they start at INC-1.",
            "/lucia incident reopen",
        ),
        (
            "incident ack INC-1000000000",
            "`INC-1000000000` is too big for an incident number: write it as INC-N, "
            "for example INC-12.",
            "/lucia incident ack",
        ),
        (
            "incident mitigated 99999999999999999999",
            "`99999999999999999999` is too big for an incident number: write it as #N, "
            "for example #12.",
            "/lucia incident mitigated",
        ),
        (
            "incident sev 2 3",
            "Which is the incident, 2 or 3? A bare number after sev is the severity: name "
            "the incident as #N or INC-N, `sev INC-3 2` or `sev INC-2 3`.",
            "/lucia incident sev",
        ),
        (
            "incident sev sev2 3",
            "`3` after the severity isn't an incident: write it as #3 or INC-3.",
            "/lucia incident sev",
        ),
        ("incident sev INC-3", "Which severity? Use 1 (worst) to 4.", "/lucia incident sev"),
        ("incident sev INC-3 2 #4", "I didn't understand `#4`.", "/lucia incident sev"),
        ("incident sev INC-3 2 4", "I didn't understand `4`.", "/lucia incident sev"),
        ("incident lead INC-3 <@U01BOBBY00> 4", "I didn't understand `4`.", "/lucia incident lead"),
        ("incident ack INC-3 INC-4", "I didn't understand `INC-4`.", "/lucia incident ack"),
        ("incident update 3", "What's the update?", "/lucia incident update"),
        ("incident note INC-3", "The note is empty.", "/lucia incident note"),
        ("postmortem INC-x", "`INC-x` isn't an incident number", "/lucia postmortem"),
        ("followup list #0", "`#0` isn't an incident number", "/lucia followup"),
    ],
)
def test_a_bad_incident_name_says_how_to_write_it(
    text: str, problem: str, usage_starts: str
) -> None:
    error = _error(text)
    assert error.problem.startswith(problem)
    assert error.usage.startswith(usage_starts)
