"""Progress reporting: who may see a bar, and that long phases report to it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from virtc import progress
from virtc.lint import lint_table
from virtc.maps.build import build
from virtc.maps.records import BuildOptions
from virtc.source.parse import parse_text

TABLE = "".join(f"user{i}@example.com\tuser{i}\n" for i in range(2000)) + \
    "@example.com\terror:5.1.1:550 5.1.1 User unknown\n"


class Recorder(progress.Reporter):
    visible = True

    def __init__(self) -> None:
        self.phases: list[tuple[str, int, int]] = []  # description, total, advanced

    def phase(self, description: str, total: int) -> None:
        self.phases.append((description, total, 0))

    def advance(self, n: int = 1) -> None:
        d, t, done = self.phases[-1]
        self.phases[-1] = (d, t, done + n)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(progress, "_current", rec)
    return rec


def test_only_a_terminal_for_humans_outside_pre_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    assert progress.wanted(Tty())
    assert not progress.wanted(io.StringIO())
    assert not progress.wanted(Tty(), machine_readable=True)
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert not progress.wanted(Tty())


def test_nothing_is_reported_by_default() -> None:
    assert progress.current().visible is False
    items = [1, 2, 3]
    assert progress.counted(items) is items


def test_parse_reports_every_character(recorder: Recorder) -> None:
    parse_text(TABLE)
    assert recorder.phases == [("parsing", len(TABLE), len(TABLE))]


def test_lint_reports_each_rule(recorder: Recorder) -> None:
    table = parse_text(TABLE)
    lint_table(table)
    description, total, done = recorder.phases[-1]
    assert description == "linting" and total == done > 5


def test_build_reports_writing_and_no_lint_build_reports_bytes(
        recorder: Recorder, tmp_path: Path) -> None:
    src = tmp_path / "virtusertable"
    src.write_text(TABLE)
    assert build(src, tmp_path / "a.db").written
    assert ("writing map", 2001, 2001) in recorder.phases
    recorder.phases.clear()
    assert build(src, tmp_path / "b.db", BuildOptions(lint=False)).written
    assert recorder.phases == [("building", len(TABLE), len(TABLE))]


def test_shown_installs_a_bar_and_restores_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    with progress.displayed(True):
        assert progress.current().visible
        parse_text(TABLE)
    assert not progress.current().visible
    with progress.displayed(False):
        assert not progress.current().visible
