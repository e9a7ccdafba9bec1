"""People in a postmortem, by name: the launch-gate table's name for a Slack user id, else
the id itself — never Slack's `<@U…>` markup, which a Markdown reader shows as it is.

Timeline texts keep people as `<@U…>` (each front shows them its own way); typed text keeps
a mention as `@U…` once Slack's markup is undone. Both become the person's name here.
"""

from __future__ import annotations

__all__ = ["Names"]

import re
from collections.abc import Iterable, Mapping

# `<@U123>`, `<@U123|label>`, the shell's `<@alice>`; or a bare `@U123` in typed text.
_MENTION = re.compile(r"<@([\w.:-]+)(?:\|[^<>]*)?>|@([UW][A-Z0-9]{2,})\b")


class Names:
    def __init__(self, known: Mapping[str, str]) -> None:
        # A name that is really an id (empty, the id, or the `<@U…>` older versions kept
        # for people set from Slack) names nobody.
        self._known = {
            user: name.strip()
            for user, name in known.items()
            if name.strip()
            and name.strip() != user
            and not (name.strip().startswith("<@") and name.strip().endswith(">"))
        }

    def person(self, who: str) -> str:
        return self._known.get(who, who)

    def maybe(self, who: str | None) -> str | None:
        return None if who is None else self.person(who)

    def people(self, who: Iterable[str]) -> list[str]:
        """Each once, by name, in alphabetical order."""
        return sorted({self.person(w) for w in who})

    def text(self, text: str) -> str:
        return _MENTION.sub(self._named, text)

    def _named(self, match: re.Match[str]) -> str:
        marked, bare = match.group(1), match.group(2)
        if marked is not None:
            return self.person(marked)
        return f"@{self._known[bare]}" if bare in self._known else match.group(0)
