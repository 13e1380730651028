"""XLSForm import: how long the pure importer takes on the household survey and a 2,000-row form.

    .venv/bin/python bench/bench_xlsform.py

Printed: the workbook's size, and the median of 5 runs of read + translate + check (no
database, no HTTP). The 2,000-row form is the largest the importer accepts (MAX_ROWS).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.forms.definition import load_definition  # noqa: E402
from backend.forms.xlsform import import_xlsx  # noqa: E402
from backend.forms.xlsform_export import export_xlsx  # noqa: E402
from backend.forms.xlsform_reader import MAX_ROWS  # noqa: E402
from tests.xlsform_factory import workbook  # noqa: E402


def median_seconds(data: bytes, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        import_xlsx(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    household = export_xlsx(load_definition("household_survey", 1))
    largest = workbook([["begin group", "all", "全部", "All"]]
                       + [["integer", f"q{i}", f"问题 {i}", f"Question {i}", "yes", None,
                           ". >= 0 and . <= 100"] for i in range(MAX_ROWS - 2)]
                       + [["end group"]])
    for name, data in (("household survey", household), (f"{MAX_ROWS}-row form", largest)):
        print(f"xlsform import, {name}: {len(data) / 1024:.0f} KiB, "
              f"median {median_seconds(data) * 1000:.0f} ms (5 runs)")


if __name__ == "__main__":
    main()
