"""virtc build == makemap, fixture by fixture (tests/data/makemap/*.vt, one behaviour each).

Every fixture is compiled by the real makemap and by virtc (``--no-lint``) with each
set of switches; see :mod:`harness.makemap_compare` for what must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.makemap import run_makemap
from harness.makemap_compare import Flags, compare

DATA = Path(__file__).parent / "data" / "makemap"
FIXTURES = sorted(DATA.glob("*.vt"))

FLAG_SETS = {
    "hash": Flags(),
    "btree": Flags(dbtype="btree"),
    "N": Flags(null=True),
    "f": Flags(foldcase=False),
    "r": Flags(replace=True),
    "btree-f-N-r": Flags(dbtype="btree", foldcase=False, null=True, replace=True),
}

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("flags", FLAG_SETS.values(), ids=FLAG_SETS.keys())
@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_matches_makemap(fixture: Path, flags: Flags, tmp_path: Path,
                                 makemap: str, db_dump: str, db_verify: str, bdb: None) -> None:
    compare(fixture.read_bytes(), tmp_path, flags)


def test_fixture_set_covers_every_makemap_complaint(tmp_path: Path, makemap: str) -> None:
    """The fixtures make makemap say each of its complaints, and some are accepted cleanly."""
    kinds: set[str] = set()
    clean = 0
    for fixture in FIXTURES:
        result = run_makemap(fixture.read_bytes(), tmp_path)
        kinds |= {m.kind for m in result.messages}
        clean += not result.messages
    assert kinds == {"too-long", "leading-space", "missing-value", "duplicate"}
    assert clean >= 20
