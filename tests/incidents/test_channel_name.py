"""Incident channel names must pass Slack's conversations.create rules: only lowercase letters,
digits, hyphens and underscores, at most 80 characters, and never punctuation alone."""

from __future__ import annotations

import re

import pytest

from bot.incidents.channel_name import channel_name

SLACK_NAME = re.compile(r"[a-z0-9_-]{1,80}")

TRICKY_TITLES = [
    "",
    "   ",
    "Checkout is DOWN!!!",
    "db_primary failover (us-east-1)",
    "Café crème brûlée: paiement refusé",
    "İstanbul ŞUBE ödeme hatası",
    "ＦＵＬＬ　ＷＩＤＴＨ ｔｉｔｌｅ",
    "ﬁle upload ﬂaky",
    "支付服务不可用",
    "Платежи не проходят",
    "🔥🔥🔥",
    "🚨 API 🚨 latency 📈",
    "!!! ??? ... --- ___ ***",
    "-leading and trailing-",
    "zero\u200bwidth\u200djoiner",
    "tabs\tand\nnewlines",
    "a" * 73 + " cut lands on a hyphen",
    "a" * 71 + " cut lands on a hyphen with a suffix",
    "The payments API returns 502 for every request from the EU region after deploy 4f2a",
    "x" * 500,
    "word " * 200,
    "é" * 300,
]
NUMBERS = [1, 42, 123_456_789]
ATTEMPTS = [1, 2, 3, 10]


def test_every_name_is_one_slack_accepts() -> None:
    for title in TRICKY_TITLES:
        for number in NUMBERS:
            for attempt in ATTEMPTS:
                name = channel_name(number, title, attempt)
                context = f"{name!r} from {title!r}, #{number}, attempt {attempt}"
                assert SLACK_NAME.fullmatch(name), context
                assert name == name.lower(), context
                assert len(name) <= 80, context
                assert name == f"inc-{number}" or name.startswith(f"inc-{number}-"), context
                assert "--" not in name, context
                assert not name.endswith("-"), context
                if attempt > 1:
                    assert name.endswith(f"-{attempt}"), context


def test_retries_never_repeat_a_name() -> None:
    for title in TRICKY_TITLES:
        names = [channel_name(42, title, attempt) for attempt in range(1, 6)]
        assert len(set(names)) == len(names), (title, names)


@pytest.mark.parametrize(
    ("number", "title", "attempt", "expected"),
    [
        (42, "Checkout is DOWN!!!", 1, "inc-42-checkout-is-down"),
        (42, "Checkout is DOWN!!!", 2, "inc-42-checkout-is-down-2"),
        (42, "Checkout is DOWN!!!", 3, "inc-42-checkout-is-down-3"),
        (7, "Café crème brûlée", 1, "inc-7-cafe-creme-brulee"),
        (7, "🚨 API 🚨 latency 📈", 1, "inc-7-api-latency"),
        (7, "🔥🔥🔥", 1, "inc-7"),
        (7, "!!! ??? ... --- ___ ***", 1, "inc-7"),
        (7, "!!! ??? ... --- ___ ***", 2, "inc-7-2"),
        (7, "", 1, "inc-7"),
    ],
)
def test_readable_names(number: int, title: str, attempt: int, expected: str) -> None:
    assert channel_name(number, title, attempt) == expected


@pytest.mark.parametrize("attempt", [1, 2, 99])
def test_a_long_title_is_cut_to_fit_and_keeps_its_start_and_suffix(attempt: int) -> None:
    title = "The payments API returns 502 for every request from the EU region after deploy 4f2a"
    name = channel_name(42, title, attempt)
    assert len(name) <= 80
    assert len(name) >= 70  # cut at the limit, not far short of it
    assert name.startswith("inc-42-the-payments-api-returns-502")
    if attempt > 1:
        assert name.endswith(f"-{attempt}")
