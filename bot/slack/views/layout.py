"""Block Kit pieces the views share: a mrkdwn section, a button, lines packed into sections."""

from __future__ import annotations

__all__ = ["button", "packed", "packed_sections", "plain", "section"]

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

_SECTION_LINE = 2900  # under Slack's 3,000-character section limit
_MAX_SECTIONS = 45  # under Slack's 50 blocks in a message, with room for a header or buttons


def plain(text: str) -> PlainTextObject:
    """Plain text as typed: without `emoji`, which slack_sdk adds to a bare string."""
    return PlainTextObject(text=text)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def button(
    text: str,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    return ButtonElement(
        text=plain(text), action_id=action_id, value=value, style=style, confirm=confirm
    )


def packed_sections(head: str, lines: Sequence[str]) -> list[SectionBlock]:
    """Lines packed into sections under Slack's 3,000-character section limit."""
    return packed(head, lines, _MAX_SECTIONS)[0]


def packed(head: str, lines: Sequence[str], max_sections: int) -> tuple[list[SectionBlock], int]:
    """As `packed_sections`, in at most `max_sections` sections (at least one), and how
    many of `lines` they hold: the rest didn't fit, so the caller can say so."""
    texts: list[str] = []
    counts: list[int] = []  # the lines that had been packed when each text was closed
    chunk = head[:_SECTION_LINE]
    for count, line in enumerate(lines):
        line = line[:_SECTION_LINE]
        if len(chunk) + len(line) + 1 > _SECTION_LINE:
            texts.append(chunk)
            counts.append(count)
            chunk = line
        else:
            chunk = f"{chunk}\n{line}"
    texts.append(chunk)
    counts.append(len(lines))
    kept = max(1, max_sections)
    return [section(text) for text in texts[:kept]], counts[:kept][-1]
