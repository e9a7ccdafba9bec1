"""The tests' own layout: test modules share drivers (tests/drivers, tests/fakes), never
each other. A test module imported elsewhere runs its fixtures and names in a second place,
and a conftest imported as a module is loaded twice (once by pytest, once by Python)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])


OURS = ("tests", "bench")  # aiohttp.test_utils is someone else's


def _is_test_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[0] in OURS and (parts[-1].startswith("test_") or parts[-1] == "conftest")


def _imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module `path` imports, wherever the import is."""
    package = ".".join(path.relative_to(root).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from tests.alerts import test_notices`
                yield node.lineno, f"{module}.{alias.name}"


def _test_imports(path: Path, root: Path = ROOT) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line} imports {name}"
        for line, name in _imported(path, root)
        if _is_test_module(name)
    ]


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "tests" / "alerts" / "test_x.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import tests.alerts.test_a\n"
        "from tests.alerts.test_b import helper\n"
        "from tests.alerts import test_c\n"
        "from tests.playbooks.conftest import said\n"
        "from . import conftest\n"
        "from .test_d import helper\n"
        "def later():\n"
        "    from tests.sentry.test_webhook import deliver\n"
        "from tests.drivers.sentry import deliver\n"
        "from tests.fakes.slack_api import FakeSlackAPI\n"
        "from aiohttp.test_utils import TestClient\n"
    )
    found = _test_imports(module, root=tmp_path)
    assert [f.rsplit(" ", 1)[-1] for f in found] == [
        "tests.alerts.test_a",
        "tests.alerts.test_b",
        "tests.alerts.test_c",
        "tests.playbooks.conftest",
        "tests.alerts.conftest",
        "tests.alerts.test_d",
        "tests.sentry.test_webhook",
    ]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_a_test_module_or_a_conftest(path: Path) -> None:
    assert _test_imports(path) == []
