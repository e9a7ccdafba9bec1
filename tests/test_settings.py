"""`load_settings`: the environment contract in DESIGN.md, checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import SlackMode, load_settings

BOT_TOKEN = "xoxb-1111-2222-botTOKENsecret"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
APP_TOKEN = "xapp-1-A111-222-appTOKENsecret"


def problems_of(environ: dict[str, str]) -> list[str]:
    """Every problem `load_settings` reports for this environment, as printed."""
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    return [str(problem) for problem in raised.value.problems]


def locations_of(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    return [problem.location for problem in raised.value.problems]


# --- defaults ---------------------------------------------------------------------------


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = load_settings({})

    assert settings.port == 3000
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url == "sqlite:///lucia.db"
    assert settings.redis_url is None
    assert settings.slack_mode is SlackMode.OFF
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.render_api_url == "https://api.render.com/v1"
    assert settings.lucia_config == Path("lucia.yaml")
    assert not settings.config_path_is_explicit


def test_set_values_replace_the_defaults() -> None:
    settings = load_settings(
        {
            "PORT": "10000",
            "DATABASE_URL": "postgresql://bot@pooler.supabase.com:6543/postgres",
            "REDIS_URL": "rediss://example.upstash.io:6379",
            "SLACK_API_URL": "http://127.0.0.1:9999/api/",
            "RENDER_API_URL": "http://127.0.0.1:9998/v1",
            "LUCIA_CONFIG": "ops/lucia.yaml",
            "LUCIA_INCIDENTS_CHANNEL": "C01INCIDNT",
        }
    )

    assert settings.port == 10000
    assert settings.database_url == "postgresql://bot@pooler.supabase.com:6543/postgres"
    assert settings.redis_url == "rediss://example.upstash.io:6379"
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.render_api_url == "http://127.0.0.1:9998/v1"
    assert settings.lucia_config == Path("ops/lucia.yaml")
    assert settings.config_path_is_explicit
    assert settings.lucia_incidents_channel == "C01INCIDNT"


def test_variable_names_are_not_case_sensitive() -> None:
    assert load_settings({"port": "4000"}).port == 4000


def test_without_an_explicit_mapping_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "4321")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)

    settings = load_settings()

    assert settings.port == 4321
    assert settings.slack_mode is SlackMode.HTTP


# --- Slack modes ------------------------------------------------------------------------


def test_bot_token_and_signing_secret_mean_http_mode() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET})

    assert settings.slack_mode is SlackMode.HTTP
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == BOT_TOKEN


def test_bot_token_and_app_token_mean_socket_mode() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})

    assert settings.slack_mode is SlackMode.SOCKET


def test_all_three_slack_credentials_mean_socket_mode() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
        }
    )

    assert settings.slack_mode is SlackMode.SOCKET


@pytest.mark.parametrize(
    ("environ", "variable", "says"),
    [
        pytest.param(
            {"SLACK_BOT_TOKEN": BOT_TOKEN},
            "SLACK_SIGNING_SECRET",
            "is missing",
            id="token-without-secret",
        ),
        pytest.param(
            {"SLACK_SIGNING_SECRET": SIGNING_SECRET},
            "SLACK_BOT_TOKEN",
            "SLACK_SIGNING_SECRET is set",
            id="secret-without-token",
        ),
        pytest.param(
            {"SLACK_APP_TOKEN": APP_TOKEN},
            "SLACK_BOT_TOKEN",
            "SLACK_APP_TOKEN is set",
            id="app-token-without-bot-token",
        ),
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxp-1111-user-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET},
            "SLACK_BOT_TOKEN",
            "xoxb-",
            id="user-token-instead-of-bot-token",
        ),
        pytest.param(
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-not-an-app-token"},
            "SLACK_APP_TOKEN",
            "xapp-",
            id="app-token-not-xapp",
        ),
    ],
)
def test_half_configured_slack_is_refused_naming_the_variable(
    environ: dict[str, str], variable: str, says: str
) -> None:
    problems = problems_of(environ)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"env {variable}: ")
    assert says in problems[0]


def test_secret_and_app_token_without_bot_token_names_both() -> None:
    (problem,) = problems_of({"SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": APP_TOKEN})

    assert problem.startswith("env SLACK_BOT_TOKEN: is missing")
    assert "SLACK_SIGNING_SECRET and SLACK_APP_TOKEN" in problem


# --- bad values -------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["abc", "0", "70000", "-1", "3000.5"])
def test_a_bad_port_is_reported_as_env_port(port: str) -> None:
    assert locations_of({"PORT": port}) == ["env PORT"]


@pytest.mark.parametrize("port", ["1", "65535"])
def test_the_edge_ports_are_accepted(port: str) -> None:
    assert load_settings({"PORT": port}).port == int(port)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/data/lucia.db",
        "postgresql://bot@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
        "postgres://bot@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
    ],
)
def test_postgres_and_sqlite_database_urls_are_accepted(url: str) -> None:
    assert load_settings({"DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize("url", ["mysql://db/lucia", "lucia.db", "https://db.example.com/"])
def test_a_database_url_of_another_kind_is_reported(url: str) -> None:
    (problem,) = problems_of({"DATABASE_URL": url})

    assert problem.startswith("env DATABASE_URL: ")
    assert "postgresql://" in problem
    assert "sqlite:///" in problem


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://x.upstash.io:6379"])
def test_redis_and_rediss_urls_are_accepted(url: str) -> None:
    assert load_settings({"REDIS_URL": url}).redis_url == url


def test_a_pinned_redis_namespace_is_used_as_given() -> None:
    assert load_settings({"LUCIA_REDIS_NAMESPACE": "staging"}).lucia_redis_namespace == "staging"


@pytest.mark.parametrize("namespace", ["lucia:prod", "with space", "x" * 33])
def test_a_redis_namespace_that_would_break_the_key_layout_is_reported(namespace: str) -> None:
    (problem,) = problems_of({"LUCIA_REDIS_NAMESPACE": namespace})
    assert problem == (
        "env LUCIA_REDIS_NAMESPACE: must be 1 to 32 letters, digits, `-` or `_` "
        "(for example `staging`)"
    )


@pytest.mark.parametrize("url", ["https://x.upstash.io", "memcached://localhost"])
def test_a_redis_url_of_another_kind_is_reported(url: str) -> None:
    (problem,) = problems_of({"REDIS_URL": url})

    assert problem.startswith("env REDIS_URL: ")
    assert "rediss://" in problem


def test_several_problems_are_reported_together() -> None:
    locations = locations_of(
        {
            "PORT": "0",
            "DATABASE_URL": "mysql://db/lucia",
            "REDIS_URL": "http://cache",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
        }
    )

    assert sorted(locations) == [
        "env DATABASE_URL",
        "env PORT",
        "env REDIS_URL",
        "env SLACK_SIGNING_SECRET",
    ]


def test_paging_settings_that_would_fail_or_leak_are_reported() -> None:
    locations = locations_of(
        {
            "SMTP_HOST": "smtp.example.com",
            "SMTP_PASSWORD": "s3cret",
            "SMTP_TLS": "none",
            "NTFY_URL": "ntfy.sh",
        }
    )

    assert sorted(locations) == ["env NTFY_URL", "env SMTP_FROM", "env SMTP_TLS"]


def test_a_non_numeric_port_does_not_hide_the_other_problems() -> None:
    locations = locations_of(
        {"PORT": "abc", "DATABASE_URL": "mysql://db/lucia", "SLACK_BOT_TOKEN": BOT_TOKEN}
    )

    assert sorted(locations) == ["env DATABASE_URL", "env PORT", "env SLACK_SIGNING_SECRET"]


# --- empty values -----------------------------------------------------------------------


def test_empty_optional_variables_count_as_unset() -> None:
    settings = load_settings(
        {
            "REDIS_URL": "",
            "SLACK_BOT_TOKEN": "",
            "SLACK_SIGNING_SECRET": "",
            "SLACK_APP_TOKEN": "  ",
            "LUCIA_INCIDENTS_CHANNEL": "",
            "LUCIA_ALERTS_CHANNEL": "",
            "SENTRY_CLIENT_SECRET": "",
            "SENTRY_DSN": "",
            "SENTRY_ENVIRONMENT": " ",
            "RENDER_API_KEY": "",
        }
    )

    assert settings.slack_mode is SlackMode.OFF
    assert settings.redis_url is None
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.lucia_incidents_channel is None
    assert settings.lucia_alerts_channel is None
    assert settings.sentry_client_secret is None
    assert settings.sentry_dsn is None
    assert settings.sentry_environment is None
    assert settings.render_api_key is None


def test_an_empty_signing_secret_beside_a_token_is_still_missing() -> None:
    (problem,) = problems_of({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": ""})

    assert problem.startswith("env SLACK_SIGNING_SECRET: is missing")


@pytest.mark.parametrize("value", ["", "  "], ids=["empty", "blank"])
@pytest.mark.parametrize(
    "name", ["PORT", "DATABASE_URL", "SLACK_API_URL", "RENDER_API_URL", "LUCIA_CONFIG"]
)
def test_an_empty_variable_that_has_a_default_says_it_is_empty(name: str, value: str) -> None:
    (problem,) = problems_of({name: value})

    assert problem.startswith(f"env {name}: ")
    assert "is set but empty" in problem
    assert "unset it to use the default" in problem


# --- secrets ----------------------------------------------------------------------------


ALL_SECRETS = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_APP_TOKEN": APP_TOKEN,
    "SENTRY_CLIENT_SECRET": "sentry-client-secret-0c0ffee",
    "RENDER_API_KEY": "rnd_renderKEYsecret42",
}


def test_secrets_never_appear_in_the_settings_repr_or_str() -> None:
    settings = load_settings(ALL_SECRETS)

    for secret in ALL_SECRETS.values():
        assert secret not in repr(settings)
        assert secret not in str(settings)
    # They are still there for the code that needs them.
    assert settings.render_api_key is not None
    assert settings.render_api_key.get_secret_value() == ALL_SECRETS["RENDER_API_KEY"]


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("DATABASE_URL", "postgresql://postgres.abcd:dbPASSWORDsecret@pooler.supabase.com:5432/db"),
        ("REDIS_URL", "rediss://default:upstashTOKENsecret@eu1.upstash.io:6379"),
    ],
)
def test_passwords_in_connection_urls_never_appear_in_the_settings_repr(
    name: str, url: str
) -> None:
    settings = load_settings({name: url})

    password = url.split(":")[2].split("@")[0]
    assert password.endswith("secret")
    assert password not in repr(settings)
    assert password not in str(settings)
    assert url in (settings.database_url, settings.redis_url)  # still usable


@pytest.mark.parametrize(
    ("environ", "secret"),
    [
        pytest.param(
            {"SLACK_BOT_TOKEN": "xoxp-userTOKENsecret"}, "userTOKENsecret", id="user-token"
        ),
        pytest.param(
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxa-appTOKENsecret"},
            "appTOKENsecret",
            id="wrong-app-token",
        ),
        pytest.param({"SLACK_BOT_TOKEN": BOT_TOKEN}, "botTOKENsecret", id="token-alone"),
        pytest.param({"SLACK_SIGNING_SECRET": SIGNING_SECRET}, SIGNING_SECRET, id="secret-alone"),
        pytest.param({"SLACK_APP_TOKEN": APP_TOKEN}, "appTOKENsecret", id="app-token-alone"),
        pytest.param(
            {"DATABASE_URL": "mysql://root:dbPASSWORDsecret@db/lucia"},
            "dbPASSWORDsecret",
            id="db-url",
        ),
        pytest.param(
            {"REDIS_URL": "http://default:redisTOKENsecret@cache"},
            "redisTOKENsecret",
            id="redis-url",
        ),
    ],
)
def test_secrets_never_appear_in_the_problems(environ: dict[str, str], secret: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)

    assert raised.value.problems
    for problem in raised.value.problems:
        assert secret not in str(problem)
    assert secret not in str(raised.value)


def test_slack_oauth_credentials_are_refused_because_bolt_would_ignore_the_bot_token() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
                "SLACK_SIGNING_SECRET": "s3cret",
                "SLACK_CLIENT_ID": "123.456",
                "SLACK_CLIENT_SECRET": "abc",
            }
        )
    text = str(caught.value)
    assert "SLACK_CLIENT_ID: must not be set" in text
    assert "SLACK_CLIENT_SECRET: must not be set" in text


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"LOG_LEVEL": "verbose"})
    assert "env LOG_LEVEL: `verbose` isn't one of DEBUG, INFO" in str(caught.value)


# --- the admin view (Clerk) -------------------------------------------------------------

_PK = "pk_live_Y2xlcmsubHVjaWEuZXhhbXBsZSQ"  # base64("clerk.lucia.example$")
_PEM = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"


def test_clerk_keys_turn_the_admin_view_on_with_the_issuer_from_the_key() -> None:
    settings = load_settings(
        {
            "CLERK_PUBLISHABLE_KEY": _PK,
            "CLERK_JWT_KEY": _PEM,
            "LUCIA_PUBLIC_URL": "https://oncall.lucia.example",
        }
    )
    assert settings.admin_view_on
    assert settings.clerk_frontend_api == "clerk.lucia.example"
    assert settings.clerk_issuer_url == "https://clerk.lucia.example"


def test_an_explicit_clerk_issuer_wins() -> None:
    settings = load_settings(
        {
            "CLERK_PUBLISHABLE_KEY": _PK,
            "CLERK_JWT_KEY": _PEM,
            "CLERK_ISSUER": "https://clerk.other.example/",
            "LUCIA_PUBLIC_URL": "https://oncall.lucia.example",
        }
    )
    assert settings.clerk_issuer_url == "https://clerk.other.example"


def test_no_clerk_settings_leave_the_admin_view_off() -> None:
    assert not load_settings({}).admin_view_on


@pytest.mark.parametrize(
    ("environ", "location"),
    [
        ({"CLERK_PUBLISHABLE_KEY": _PK}, "env CLERK_JWT_KEY"),
        ({"CLERK_JWT_KEY": _PEM}, "env CLERK_PUBLISHABLE_KEY"),
        (
            {"CLERK_PUBLISHABLE_KEY": "pk_live_!!!", "CLERK_JWT_KEY": _PEM},
            "env CLERK_PUBLISHABLE_KEY",
        ),
        ({"CLERK_PUBLISHABLE_KEY": _PK, "CLERK_JWT_KEY": "sk_live_x"}, "env CLERK_JWT_KEY"),
        ({"CLERK_PUBLISHABLE_KEY": _PK, "CLERK_JWT_KEY": _PEM}, "env LUCIA_PUBLIC_URL"),
    ],
    ids=["no PEM", "no publishable key", "not a key", "not a PEM", "no public URL"],
)
def test_half_configured_clerk_is_refused(environ: dict[str, str], location: str) -> None:
    assert location in locations_of(environ)


@pytest.mark.parametrize(
    ("given", "missing", "needs"),
    [
        ({"CLOUDFLARE_API_TOKEN": "cf-token"}, "CLOUDFLARE_ZONE_ID", "purging the status page"),
        ({"CLOUDFLARE_ZONE_ID": "023e105f4ecef8ad"}, "CLOUDFLARE_API_TOKEN", "purging"),
        ({"SUPABASE_ACCESS_TOKEN": "sbp_x"}, "SUPABASE_PROJECT_REF", "the gate's backup evidence"),
        ({"SUPABASE_PROJECT_REF": "abcdefgh"}, "SUPABASE_ACCESS_TOKEN", "backup evidence"),
    ],
)
def test_half_of_a_pair_of_variables_names_the_other_half(
    given: dict[str, str], missing: str, needs: str
) -> None:
    (problem,) = problems_of(given)
    assert problem.startswith(f"env {missing}: is missing: ")
    assert needs in problem
    assert "(or neither: then " in problem
