"""`make flake-hunt`: every e2e file, several rounds in a row, the files in a new random
order each round, each file in its own pytest process (a fresh server and browser). Prints a
table of passes per file and the tests that failed, keeps the output of every failed run,
and exits non-zero when anything failed.

Not part of `make test`: it takes a while (5 rounds of the whole e2e set). A smaller hunt:
`make flake-hunt FLAKE_ROUNDS=3 FLAKE_FILES="tests/e2e/test_review_flow.py"`.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def run_file(path: str, log_dir: Path, label: str) -> tuple[bool, list[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", path],
        cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    passed = result.returncode == 0
    if not passed:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{label}.log").write_text(output, encoding="utf-8")
    return passed, FAILED.findall(output), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="e2e files (default: every tests/e2e/test_*.py)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None, help="the shuffle's seed (printed)")
    parser.add_argument("--logs", default=str(ROOT / "instance" / "flake-hunt"))
    parser.add_argument("--jobs", type=int, default=1,
                        help="files run side by side (each its own server and browser); more "
                             "than 1 also loads the machine, as a busy CI runner does")
    options = parser.parse_args()
    files = options.files or sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "e2e").glob("test_*.py"))
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)
    shuffle = random.Random(seed)
    log_dir = Path(options.logs)
    print(f"flake hunt: {len(files)} files x {options.rounds} rounds, {options.jobs} at a time, "
          f"seed {seed}", flush=True)

    passes: dict[str, int] = defaultdict(int)
    failures: dict[str, list[str]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    for round_no in range(1, options.rounds + 1):
        order = files[:]
        shuffle.shuffle(order)
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            runs = {pool.submit(run_file, path, log_dir, f"round{round_no}-{Path(path).stem}"):
                    path for path in order}
            for run in as_completed(runs):  # reported as each file ends
                path = runs[run]
                ok, failed, elapsed = run.result()
                passes[path] += ok
                seconds[path] += elapsed
                if not ok:
                    label = f"round{round_no}-{Path(path).stem}"
                    failures[path].extend(f"round {round_no}: {name}" for name in
                                          failed or [f"(the run failed: {label}.log)"])
                verdict = "pass" if ok else "FAIL"
                print(f"  round {round_no}: {verdict}  {path}  ({elapsed:.0f} s)", flush=True)

    width = max(len(p) for p in files)
    print(f"\n{'file':<{width}}  passes  mean s")
    for path in files:
        mean = seconds[path] / options.rounds
        print(f"{path:<{width}}  {passes[path]:>2}/{options.rounds:<3}  {mean:6.0f}")
    total = sum(passes.values())
    print(f"{'all':<{width}}  {total}/{len(files) * options.rounds}")
    failed_any = any(failures.values())
    if failed_any:
        print("\nfailed:")
        for path, lines in failures.items():
            for line in lines:
                print(f"  {path} {line}")
        print(f"logs of failed runs: {log_dir}")
    return 1 if failed_any else 0


if __name__ == "__main__":
    sys.exit(main())
