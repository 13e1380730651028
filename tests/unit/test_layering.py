"""The layering contracts of STYLE.md (issue 9): pure rules import nothing from Flask or
SQLAlchemy; no package imports another package's models; inside a package imports go
registration -> routes -> service -> queries -> rules | models; the packages form no cycle.

Runs import-linter with the contracts in pyproject.toml, so moving a database call into
a rules module, or reading another package's table, fails the suite, not just `make lint`.
(mypy runs in `make lint` only: a cold run takes minutes on a busy machine.)
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (make test installs it)")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    kept = re.search(r"Contracts: (\d+) kept", result.stdout)
    assert kept and int(kept.group(1)) >= 5, result.stdout
