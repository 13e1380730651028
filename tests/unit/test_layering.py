"""The layering contract of STYLE.md: pure rules import nothing from Flask or SQLAlchemy.

Runs import-linter with the contracts in pyproject.toml, so moving a database call into
a rules module fails the suite, not just `make lint`.
"""

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
