"""Rules of the house that a reader can't keep by hand: the core writes no Slack markup.

The core returns words as structure (`bot.text`: mentions, channels, emphasis; listings as
`ItemList`), and each front renders them for where they go. A string literal in a core
package that holds Slack's markup — `<@…>`, `<#…>`, `<!…>`, an `app_redirect` link, mrkdwn
`*bold*`, a `•` bullet — is a rendering in the wrong place. Docstrings may speak of markup,
and patterns (`re.compile(...)`) may parse it; everything else is checked.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
CORE = ("incidents", "alerts", "paging", "playbooks", "postmortem")
SHARED = ("text.py",)  # the core's own vocabulary, held to the same rule

# Where the core must read or write Slack's markup as a stored format, and why.
ALLOWED: dict[str, str] = {
    "paging/words.py": "a page's message is stored in Slack's markup (to_markup/from_markup): "
    "plain text would lose whom a mention names",
    "paging/people.py": "recognizes a stored `<@U…>` name from earlier versions as no name",
    "postmortem/names.py": "reads people out of stored timeline texts (`<@U…>`) to name them",
    "text.py": "stored_text writes the timeline's stored form, people kept as `<@U…>`",
}

_MARKUP = {
    "a user mention (<@…>)": re.compile(r"<@"),
    "a channel reference (<#…>)": re.compile(r"<#"),
    "a special mention or date (<!…>)": re.compile(r"<!"),
    "a Slack app_redirect link": re.compile(r"app_redirect"),
    "a • bullet": re.compile("•"),
    "mrkdwn bold (*…*)": re.compile(r"(?<![\w*])\*[^\s*][^*\n]*(?<=\S)\*(?![\w*])"),
}
_HOLE = "\x00"  # stands for an f-string's {…} when its pieces are read as one literal


def _core_files() -> list[Path]:
    files = [p for package in CORE for p in sorted((BOT / package).rglob("*.py"))]
    return files + [BOT / name for name in SHARED]


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _patterns(tree: ast.AST) -> set[int]:
    """String literals given to `re.…(…)`: what parses markup, not what writes it."""
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
        ):
            for arg in node.args[:1]:
                found.update(id(n) for n in ast.walk(arg))
    return found


def _literals(source: str) -> list[tuple[int, str]]:
    """Every string literal with its line; an f-string read as one, its holes marked."""
    tree = ast.parse(source)
    skipped = _docstrings(tree) | _patterns(tree)
    inside_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in ast.walk(node)
        if part is not node
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr) and id(node) not in inside_fstrings:
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else _HOLE
                for v in node.values
            )
            found.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_fstrings
        ):
            found.append((node.lineno, node.value))
    return found


def markup_in(source: str) -> list[str]:
    return [
        f"line {line}: {what} in {text!r}"
        for line, text in _literals(source)
        for what, pattern in _MARKUP.items()
        if pattern.search(text)
    ]


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(BOT)))
def test_the_core_writes_no_slack_markup(path: Path) -> None:
    name = str(path.relative_to(BOT))
    if name in ALLOWED:
        pytest.skip(f"allowed: {ALLOWED[name]}")
    assert markup_in(path.read_text()) == [], (
        f"bot/{name} writes Slack markup: return structure (bot.text) and render it in the "
        "front (bot/slack/views/mrkdwn.py, bot/console/render.py)"
    )


def test_every_allowance_is_still_needed() -> None:
    for name, reason in ALLOWED.items():
        assert (BOT / name).is_file(), f"{name} is allowed but no longer exists"
        assert reason.strip()
        assert markup_in((BOT / name).read_text()), f"{name} holds no markup now: drop it"


@pytest.mark.parametrize(
    "source",
    [
        'x = f"Lead is now <@{lead}>"',
        'x = f"where <#{channel}>"',
        'x = "<!here> look"',
        'x = f"https://slack.com/app_redirect?channel={c}"',
        'x = f"• {item}"',
        'x = f"*{name}* ({steps})"',
        'x = "*Launch-gate owners*"',
    ],
)
def test_markup_is_found(source: str) -> None:
    assert markup_in(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""A docstring may say <@U…> and *bold*."""',
        'PATTERN = re.compile(r"<@([\\w.:-]+)>")',
        'x = f"{a} * {b} * {c}"',
        'x = "a*b*c"',
        "x = (*WORKING, 1)",
        'x = f"`{code}`"',
    ],
)
def test_what_is_not_markup(source: str) -> None:
    assert markup_in(source) == []
