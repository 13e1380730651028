"""The suite's own layout: test modules are imported by their file name (no packages), so two
files of one name in different folders break collection under xdist (it happened twice at a
merge: an API file and an e2e file both named after their feature)."""

import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_files_share_a_name():
    names = Counter(path.name for path in TESTS.rglob("test_*.py")
                    if "node_modules" not in path.parts)
    assert [name for name, count in names.items() if count > 1] == []


def test_every_browser_test_file_is_marked_e2e():
    """`make test-postgres` runs `-m "not e2e"`: an unmarked browser file ran there too (the
    intake desk's), a browser on the PostgreSQL pass and off the flake hunt's books."""
    unmarked = [path.name for path in sorted((TESTS / "e2e").glob("test_*.py"))
                if "pytestmark = pytest.mark.e2e" not in path.read_text(encoding="utf-8")]
    assert unmarked == []


def test_no_browser_test_waits_on_an_async_predicate_with_wait_for_function():
    """Playwright's wait_for_function takes the promise an async predicate returns for a
    truthy answer and ends at once (tests/e2e/waits.py): the forms desk test waited for a
    pulled form that way and then, on a slow pull, filled in the old form."""
    call = re.compile(r"wait_for_function\(\s*(?:f?r?\"{1,3}|f?r?'{1,3})\s*async\b")
    found = [path.name for path in sorted((TESTS / "e2e").glob("*.py"))
             if call.search(path.read_text(encoding="utf-8"))]
    assert found == []
