"""Fixtures for the real tools (the policy and the paths are in support/oracles.py)."""

from __future__ import annotations

import pytest
from support.oracles import require_berkeleydb, require_tool


@pytest.fixture
def makemap() -> str:
    return require_tool("makemap")


@pytest.fixture
def db_dump() -> str:
    return require_tool("db_dump")


@pytest.fixture
def db_verify() -> str:
    return require_tool("db_verify")


@pytest.fixture
def sendmail() -> str:
    require_tool("m4")
    return require_tool("sendmail")


@pytest.fixture
def bdb() -> None:
    require_berkeleydb()
