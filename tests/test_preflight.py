"""What `check-config` finds beyond validity: here, an admin view nobody may enter."""

from __future__ import annotations

from bot.config import AdminViewConfig, LuciaConfig
from bot.preflight import preflight
from bot.settings import load_settings

_CLERK = {
    "CLERK_PUBLISHABLE_KEY": "pk_live_Y2xlcmsubHVjaWEuZXhhbXBsZSQ",
    "CLERK_JWT_KEY": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
    "LUCIA_PUBLIC_URL": "https://oncall.lucia.example",
}


def test_an_admin_view_nobody_may_enter_is_found() -> None:
    [problem] = preflight(load_settings(_CLERK), LuciaConfig())
    assert "nobody may enter /admin" in str(problem)


def test_an_organization_without_roles_is_found() -> None:
    config = LuciaConfig(admin_view=AdminViewConfig(organization="org_1", roles=[]))
    [problem] = preflight(load_settings(_CLERK), config)
    assert "no roles" in str(problem)


def test_listed_users_or_an_organization_are_enough() -> None:
    for view in (AdminViewConfig(users=["user_1"]), AdminViewConfig(organization="org_1")):
        assert preflight(load_settings(_CLERK), LuciaConfig(admin_view=view)) == []


def test_without_clerk_nothing_is_said() -> None:
    assert preflight(load_settings({}), LuciaConfig()) == []
