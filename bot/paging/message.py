"""What a page says, before any channel renders it: a title and lines of `Words`, with
whom it pages, who sent it and anyone its message mentions named as people."""

from __future__ import annotations

__all__ = ["TEST_TITLE", "compose", "page_message"]

from bot.incidents.model import Incident
from bot.paging.model import Page
from bot.paging.people import People, is_placeholder
from bot.paging.ports import PageMessage
from bot.paging.words import Code, Person, Words, from_markup, is_slack_user, with_names
from bot.vocabulary import ROLES, SYSTEM_ACTOR

TEST_TITLE = "TEST page from Lucia's launch gate"


async def compose(page: Page, incident: Incident | None, people: People) -> PageMessage:
    """The page with every person in it named — one look-up for them all."""
    said = from_markup(page.message)
    by_hand = page.created_by != SYSTEM_ACTOR
    wanted: dict[str, str] = {}  # Slack id -> the label Slack gave it (better than the id)
    for segment in said:
        if isinstance(segment, Person) and segment.slack_user:
            wanted[segment.slack_user] = wanted.get(segment.slack_user) or segment.name
    contact = page.contact
    if contact.slack_user and is_placeholder(contact.name, contact.slack_user):
        wanted.setdefault(contact.slack_user, "")  # a row from before names were looked up
    if by_hand and is_slack_user(page.created_by):
        wanted.setdefault(page.created_by, "")
    names = await people.names(wanted) if wanted else {}
    user = contact.slack_user
    person = Person(names.get(user, contact.name) if user else contact.name, user)
    sender = None
    if by_hand:
        who = page.created_by
        sender = Person(names[who], who) if who in names else (await people.person(who))
    return page_message(page, incident, person, sender, with_names(said, names))


def page_message(
    page: Page, incident: Incident | None, person: Person, sender: Person | None, said: Words
) -> PageMessage:
    """What a page says, with its people as structure; `sender` is None for Lucia's own."""
    if page.test:
        return _test_page(page, person, sender, said)
    lines: list[Words] = []
    if incident is not None:
        title: Words = (f"{incident.severity.label} {incident.key}: {incident.title}",)
        if sender is not None:  # a page by hand: who wants them, in their words
            lines.append((sender, " paged you", *((": ", *said) if said else (".",))))
        elif said:
            lines.append(said)
        how: Words = (
            "Acknowledge with the button in Slack or ",
            Code(f"/lucia incident ack #{incident.number}"),
            ".",
        )
    else:
        title = ("Page from ", sender) if sender is not None else ("Page",)
        if said:
            lines.append(said)
        how = ("Acknowledge with the button in Slack.",)
    if page.target in ROLES:
        how = (f"You are paged as {page.target}. ", *how)
    lines.append(how)
    return PageMessage(
        page_id=page.id,
        person=person,
        title=title,
        lines=tuple(lines),
        urgent=page.urgent,
        incident_number=incident.number if incident else None,
        incident_channel=incident.channel_id if incident else None,
    )


def _test_page(page: Page, person: Person, sender: Person | None, said: Words) -> PageMessage:
    """A test page: marked TEST wherever it goes, and saying what its button records."""
    by: Words = (sender, " sent it") if sender is not None else ("Sent",)
    lines: list[Words] = [
        ("This is a test: no incident is open and nothing is escalating.",),
        (*by, " to check that every way Lucia has to reach you works."),
    ]
    if said:  # the roles it tests, in Lucia's words
        lines.append(said)
    if person.slack_user:
        lines.append(
            (
                "Acknowledge with the button in Slack to record that you can be reached: "
                "it counts for the launch gate.",
            )
        )
    else:
        lines.append(
            (
                "You have no Slack user in the launch-gate table, so this page has no "
                "Acknowledge button and can't count for the launch gate: ask for ",
                Code(f"/lucia owners set {page.target} @you"),
                ".",
            )
        )
    return PageMessage(
        page_id=page.id,
        person=person,
        title=(TEST_TITLE,),
        lines=tuple(lines),
        urgent=False,
        test=True,
    )
