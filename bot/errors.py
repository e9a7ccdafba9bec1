"""The bot's one exception tree.

    LuciaError
    ├── ConfigError            lucia.yaml or the environment is wrong; carries every problem found
    ├── UserError              the person asked for something we can't do; the message is for them
    │   ├── CommandError       the command text doesn't parse; carries the right form
    │   ├── IncidentNotFound   no incident with that number, or no incident in this channel
    │   ├── IllegalTransition  the incident's state doesn't allow that step
    │   ├── DuplicateOpen      the same person opened the same title under a minute ago
    │   └── UnknownUser        a mention that doesn't resolve to a user
    ├── ChatError              the chat service refused or failed a call (Slack error code kept)
    │   └── ChannelNameTaken   the channel name exists already
    ├── UnreadableDelivery     a webhook kept in the inbox doesn't have the promised shape
    ├── StoreConflict          a uniqueness rule refused a write that raced another one
    ├── StoreUnavailable       the database can't be reached
    ├── CachePurgeFailed       Cloudflare didn't purge the status page (it updates within max-age)
    ├── EvidenceUnavailable    a launch-gate check couldn't see what it looks at: unknown
    └── DedupeUnavailable      Redis (or the in-process store) can't be reached

Fronts catch UserError and show its message to the person; everything else reaches the
front's single failure handler, which logs it and says plainly that something failed.
"""

from __future__ import annotations

__all__ = [
    "CachePurgeFailed",
    "ChannelNameTaken",
    "ChatError",
    "CommandError",
    "ConfigError",
    "ConfigProblem",
    "DedupeUnavailable",
    "DeliveryFailed",
    "DuplicateOpen",
    "EvidenceUnavailable",
    "IllegalTransition",
    "IncidentNotFound",
    "LuciaError",
    "RenderError",
    "StoreConflict",
    "StoreUnavailable",
    "UnknownUser",
    "UnreadableDelivery",
    "UserError",
]

from dataclasses import dataclass

from bot.text import ChannelRef, Text


class LuciaError(Exception):
    """Base of every error the bot raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    location: str  # "lucia.yaml:12" or "env SLACK_SIGNING_SECRET"
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ConfigError(LuciaError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UserError(LuciaError):
    """An error whose message is written for the person who asked.

    `text` is that message as structure when it names people or channels (`bot.text`), for
    each front to render; None when it is plain words. `str()` is always the plain form."""

    def __init__(self, message: str | Text = "") -> None:
        self.text = message if isinstance(message, Text) else None
        super().__init__(str(message))


class CommandError(UserError):
    def __init__(self, problem: str, usage: str) -> None:
        self.problem = problem
        self.usage = usage
        super().__init__(f"{problem}\nUsage: `{usage}`")


class IncidentNotFound(UserError):
    pass


class IllegalTransition(UserError):
    pass


class UnknownUser(UserError):
    pass


class DuplicateOpen(UserError):
    """Found in the database, not in a cache: a retry after a failed open is never refused.

    Its `text` names the channel as structure; fronts render the title for where it goes."""

    def __init__(self, key: str, title: str, age: str, channel_id: str | None) -> None:
        self.key, self.title, self.age, self.channel_id = key, title, age, channel_id
        super().__init__(
            Text(
                f"You opened {key} “{title}” {age} ago",
                *((" in ", ChannelRef(channel_id)) if channel_id else ()),
                ", so I didn't open a second one. If this is a different incident, give it a "
                "different title.",
            )
        )


class ChatError(LuciaError):
    def __init__(self, method: str, code: str, *, retry_after: float | None = None) -> None:
        self.method = method
        self.code = code
        self.retry_after = retry_after  # seconds, when the chat service rate-limited us
        super().__init__(f"{method} failed: {code}")


class ChannelNameTaken(ChatError):
    pass


class UnreadableDelivery(LuciaError):
    pass


class StoreConflict(LuciaError):
    pass


class StoreUnavailable(LuciaError):
    pass


class DedupeUnavailable(LuciaError):
    pass


class DeliveryFailed(LuciaError):
    """A page could not be delivered through one channel (e-mail, push, Slack)."""


class RenderError(LuciaError):
    """Render's API refused or failed a call; `status` is the HTTP status (0: no answer)."""

    def __init__(self, reason: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


class EvidenceUnavailable(LuciaError):
    """A launch-gate check couldn't see what it looks at; the message says why, for people.
    The item it serves is `unknown`, never passed."""


class CachePurgeFailed(LuciaError):
    """Cloudflare refused or failed a purge of the status page; the message says why. The
    page still updates once its cached copy is older than its max-age."""
