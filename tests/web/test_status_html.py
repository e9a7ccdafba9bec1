"""The page's HTML as a screen reader and a colour-blind reader meet it, rendered from a
page made by hand: landmarks, one h1 and headings in order, every state in words beside
its colour, colours with WCAG AA contrast, and published text escaped."""

from __future__ import annotations

import fnmatch
import itertools
import re
import tomllib
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.status.model import (
    ComponentChange,
    ComponentState,
    Maintenance,
    Phase,
    PublicIncident,
    PublicUpdate,
)
from bot.status.page import PageView, page_view
from bot.status.ports import PageData
from bot.web.status_html import BACKGROUND, STATE_COLOURS, TEXT_COLOURS, StatusHtml
from bot.web.status_links import PageSite
from tests.drivers.contrast import contrast
from tests.drivers.status_site import status_config

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
MAJOR = ComponentState.MAJOR_OUTAGE
WHITE = "#ffffff"


def view(name: str = "Checkout is failing") -> PageView:
    began = NOW - timedelta(hours=1)
    updates = (
        PublicUpdate(2, 1, Phase.IDENTIFIED, "Bad deploy found", NOW, "U1"),
        PublicUpdate(
            1, 1, Phase.INVESTIGATING, name, began, "U1", {"engine": ComponentState.MAJOR_OUTAGE}
        ),
    )
    incident = PublicIncident(
        1,
        name,
        Phase.IDENTIFIED,
        "critical",
        began,
        NOW,
        None,
        1,
        {"engine": ComponentState.MAJOR_OUTAGE},
        updates,
    )
    maintenance = Maintenance(
        1,
        "Admin database upgrade",
        "Admin is read-only meanwhile",
        ("admin",),
        NOW - timedelta(minutes=5),
        NOW + timedelta(hours=1),
        NOW - timedelta(days=1),
        "U1",
    )
    watched = NOW - timedelta(days=40)
    data = PageData(
        changes={
            "engine": [
                ComponentChange("engine", ComponentState.OPERATIONAL, watched),
                ComponentChange("engine", ComponentState.MAJOR_OUTAGE, began),
            ],
            "admin": [ComponentChange("admin", ComponentState.OPERATIONAL, watched)],
        },
        incidents=[incident],
        maintenances=[maintenance],
        updated_at=NOW,
    )
    return page_view(status_config().status_page, data, NOW)


def render(page: PageView | None = None) -> str:
    page = page or view()
    return StatusHtml().page(page, PageSite.of(page, None)).decode()


class Outline(HTMLParser):
    """Landmarks and headings in document order, and each state label's classes and words."""

    def __init__(self) -> None:
        super().__init__()
        self.landmarks: list[str] = []
        self.headings: list[int] = []
        self.labels: list[tuple[str, str]] = []
        self._label: str | None = None
        self._words = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("header", "main", "footer", "nav", "aside"):
            self.landmarks.append(tag)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        classes = (dict(attrs).get("class") or "").split()
        if "state" in classes:
            self._label, self._words = next(c for c in classes if c.startswith("s-")), ""

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._words += data

    def handle_endtag(self, tag: str) -> None:
        if self._label is not None and tag in ("span", "strong") and self._words.strip():
            self.labels.append((self._label, self._words.strip()))
            self._label = None


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


@pytest.mark.parametrize("state", sorted(STATE_COLOURS))
def test_each_state_colour_reads_on_white_and_under_white_text(state: str) -> None:
    """Its words, dot and bars are on white; the banner puts white text on it."""
    assert contrast(STATE_COLOURS[state], BACKGROUND) >= 4.5
    assert contrast(STATE_COLOURS[state], WHITE) >= 4.5


@pytest.mark.parametrize("name", sorted(TEXT_COLOURS))
def test_the_text_colours_read_on_the_background(name: str) -> None:
    assert contrast(TEXT_COLOURS[name], BACKGROUND) >= 4.5


def test_the_page_uses_exactly_those_colours() -> None:
    css = render().split("<style>")[1].split("</style>")[0]
    declared = dict(re.findall(r"--([a-z_]+): (#[0-9a-f]{6});", css))
    for state, colour in STATE_COLOURS.items():
        assert declared[state] == colour
    assert declared["bg"] == BACKGROUND
    assert declared["text"] == TEXT_COLOURS["text"]
    # Every other colour in the stylesheet is white text or the lines between rows.
    assert set(re.findall(r"#[0-9a-f]{6}", css)) - {*declared.values()} == set()


def test_landmarks_one_h1_and_headings_that_never_skip_a_level() -> None:
    found = outline(render())
    assert found.landmarks == ["header", "main", "footer"]
    assert found.headings.count(1) == 1
    assert found.headings[0] == 1
    for before, after in itertools.pairwise(found.headings):
        assert after <= before + 1, found.headings


def test_every_state_is_said_in_words_beside_its_colour() -> None:
    found = outline(render())
    assert ("s-major_outage", "Major outage") in found.labels
    assert ("s-under_maintenance", "Under maintenance") in found.labels
    assert ("s-under_maintenance", "In progress") in found.labels  # the maintenance
    words = {state.value: state.words for state in ComponentState}
    for label, said in found.labels:
        state = label.removeprefix("s-")
        assert said == words[state] or state == "under_maintenance", (label, said)


def test_bars_say_what_they_show_and_no_data_is_not_up() -> None:
    html = render()
    engine = html.split('id="component-engine"')[1].split("</li>")[0]
    assert engine.count('class="day') == 90
    assert engine.count('class="day s-no_data"') == 49
    assert 'title="22 Oct 2026: no data"' in engine
    label = re.search(r'role="img" aria-label="([^"]+)"', engine)
    assert label is not None
    assert label.group(1).endswith(
        "1 day with a major outage, 40 days operational, 49 days without data."
    )


def test_published_text_is_escaped() -> None:
    html = render(view('<script>alert("x")</script> & more'))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html


def test_every_template_ships_in_the_wheel() -> None:
    """pyproject's package-data names them; a template left out is a 500 once installed."""
    root = Path(__file__).resolve().parents[2]
    shipped = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["bot.web"]
    web = root / "bot" / "web"
    templates = [p.relative_to(web).as_posix() for p in (web / "templates").iterdir()]
    assert templates
    for template in templates:
        assert any(fnmatch.fnmatch(template, pattern) for pattern in shipped), template
