"""A page's words as structure: read from Slack's markup, stored back without loss, and
shown for each place they go."""

from __future__ import annotations

import pytest

from bot.paging.plain import plain_words
from bot.paging.words import (
    Broadcast,
    ChannelRef,
    Link,
    Person,
    from_markup,
    timeline_text,
    to_markup,
    with_names,
)
from bot.slack.views.page_dm import slack_words

TYPED = (
    "Disk &lt;90%&gt; full &amp; rising: ask <@U003> or <@U006|carla> in <#C01OPS0000|ops>, "
    "see <https://status.lucia.example|status> <!here>"
)


def test_slack_markup_becomes_people_channels_and_links() -> None:
    assert from_markup(TYPED) == (
        "Disk <90%> full & rising: ask ",
        Person("", "U003"),
        " or ",
        Person("carla", "U006"),
        " in ",
        ChannelRef("C01OPS0000", "ops"),
        ", see ",
        Link("https://status.lucia.example", "status"),
        " ",
        Broadcast("here", "!here"),
    )


@pytest.mark.parametrize(
    "typed",
    [
        TYPED,
        "a < b > c, nothing to read here",
        "<#C01OPS0000> <mailto:ana@lucia.example|Ana> <!subteam^S01|@oncall> <@U01ALICE00>",
        "",
    ],
)
def test_what_is_stored_reads_back_the_same(typed: str) -> None:
    words = from_markup(typed)
    assert from_markup(to_markup(words)) == words


def test_each_place_shows_the_words_its_own_way() -> None:
    words = with_names(from_markup(TYPED), {"U003": "Ana Lima", "U006": "Carla Dias"})

    assert plain_words(words) == (
        "Disk <90%> full & rising: ask Ana Lima or Carla Dias in #ops, "
        "see status (https://status.lucia.example) @here"
    )
    # Slack: mentions, channels and links live; text escaped once; @here pings nobody.
    assert slack_words(words) == (
        "Disk &lt;90%&gt; full &amp; rising: ask <@U003> or <@U006> in <#C01OPS0000|ops>, "
        "see <https://status.lucia.example|status> @here"
    )
    # The timeline: plain text with people by id, as every other timeline event holds them.
    assert timeline_text(words) == (
        "Disk <90%> full & rising: ask <@U003> or <@U006> in #ops, "
        "see status (https://status.lucia.example) @here"
    )


def test_a_mention_that_is_no_slack_user_is_just_a_name() -> None:
    assert from_markup("ping <@ana>") == ("ping ", Person("ana"))
    assert plain_words(from_markup("ping <@ana>")) == "ping ana"
