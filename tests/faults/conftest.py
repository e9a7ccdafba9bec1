"""The fault suite's fixture: one deployment per test, built to be broken
(tests/faults/stack.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.drivers.services import empty_postgres
from tests.faults.stack import Stack, build_stack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with build_stack(tmp_path, await empty_postgres()) as built:
        yield built
