"""Regenerate docs/screens.md and its pictures from the e2e run, so the next reader sees the
product before reading code (issue 21).

    .venv/bin/python docs/make_screens.py             # the screens as they are now
    .venv/bin/python docs/make_screens.py --before    # and issue 21's "before" pictures

Runs the e2e tests that walk the main screens with DOORSTEP_SCREENS_DIR set (each calls
tests/e2e/accessibility.shot at the screens listed below), draws the refusal letter's first
page with poppler's pdftoppm, and writes docs/screens.md. Needs Chromium (as the e2e tests do)
and poppler-utils for the letter.

``--before`` also draws the refusal letter, the evidence screen and the check-in desk as they
were before issue 21 (commit BEFORE, the parent of its first fix) into docs/screens/before/:
that commit's tree is unpacked into a temporary folder (git archive) and its own e2e tests run
there with this virtualenv; a small pytest plugin (screens_plugin.py, beside this script) takes
the picture when a test checks one of those screens with axe, since the old tests had no shot().
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENS = ROOT / "docs" / "screens"
TESTS = ["tests/e2e/test_intake_desk.py", "tests/e2e/test_review_flow.py",
         "tests/e2e/test_checkin.py", "tests/e2e/test_case_workflow.py::"
         "test_dibao_from_application_to_approval_with_an_objection"]
# Issue 21's "before": the parent of its first fix (letters fit to send, 01e08b3).
BEFORE = "912abe1"
BEFORE_TESTS = [
    "tests/e2e/test_review_flow.py::"
    "test_reviewer_sends_a_field_back_and_the_team_fixes_it_offline",
    "tests/e2e/test_checkin.py::test_assistant_closes_a_follow_up_and_checks_in_for_someone"]
# (picture, caption) shown before / after, side by side.
BEFORE_AFTER = [
    ("letter-refusal", "The refusal letter (不予批准告知书): a repeated clause with an English "
                       "gloss and two words for re-examination; a font the PDF did not embed"),
    ("desk-evidence", "The evidence screen: answers in the form's order, stamps on one line, "
                      "which stamp each flag is about"),
    ("desk-checkin-follow-ups", "The check-in desk: follow-up cards that read apart"),
]
# (file name without .png, caption): in the order the document shows them.
PICTURES = [
    ("desk-intake-household", "Desk · 受理登记: the household and its members at the window"),
    ("desk-intake-team", "Desk · 受理登记: the visit team, who is free, a suggested rotating pair"),
    ("desk-case", "Desk · a case: case number, actions, documents and the timeline"),
    ("desk-review-queue", "Desk · 初审 queue, riskiest first"),
    ("desk-evidence", "Desk · evidence of one home visit: answers, photos, map, flags"),
    ("desk-checkin-follow-ups", "Desk · a check-in follow-up: time, selfie beside the reference "
                                "photo, phone, why it was flagged; closing without a result"),
    ("desk-checkin-history", "Desk · check-in follow-ups and a recipient's history"),
    ("desk-spot-checks", "Desk · the county's to-do list and spot-check draw (township column, "
                         "the month named)"),
    ("phone-checkin-home", "Phone · the recipient's check-in home (12月1日至12月20日)"),
    ("letter-refusal", "Letter · 不予批准告知书, page 1 of the PDF (embedded Noto Serif CJK)"),
]


LETTER = {"case_no": "文屏〔2026〕低保第 0012 号", "applicant_name": "张三",
          "reasons": ["家庭人均收入高于当地低保标准", "名下有机动车一辆"],
          "decided_on": date(2026, 12, 2), "office": "文屏镇人民政府"}


def refusal_letter(target: Path) -> bool:
    sys.path.insert(0, str(ROOT))
    from backend.documents import service

    body, _ = service.render("refusal_letter", {**LETTER, "reexamination_office": "鲁甸县民政局"},
                             "pdf")
    return _draw_pdf(body, target)


def _draw_pdf(body: bytes, target: Path) -> bool:
    if shutil.which("pdftoppm") is None:
        return False
    pdf = target.with_suffix(".pdf")
    pdf.write_bytes(body)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(target.with_suffix(""))], check=True)
    pdf.unlink()
    return True


# The letter as the old tree printed it, with the re-examination sentence its workflow passed.
OLD_LETTER = """
import sys
from datetime import date
from backend.documents import service
from backend.workflow.service import REEXAMINATION_ROUTE
body, _ = service.render("refusal_letter", {**%r, "decided_on": date(2026, 12, 2),
                         "reexamination_route": REEXAMINATION_ROUTE}, "pdf")
sys.stdout.buffer.write(body)
"""


def before() -> int:
    """Issue 21's "before" pictures from commit BEFORE, into docs/screens/before/."""
    target = SCREENS / "before"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doorstep-before-") as tree:
        archive = subprocess.run(["git", "archive", BEFORE], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        shutil.copy(Path(__file__).with_name("screens_plugin.py"), Path(tree) / "screens_plugin.py")
        letter = {k: v for k, v in LETTER.items() if k != "decided_on"}
        body = subprocess.run([sys.executable, "-c", OLD_LETTER % letter], cwd=tree, check=True,
                              capture_output=True).stdout
        _draw_pdf(body, target / "letter-refusal.png")
        env = {**os.environ, "DOORSTEP_SCREENS_DIR": str(target)}
        env.pop("DATABASE_URL", None)
        # Pictures are taken as the old tests pass the screens; an old test failing later on
        # (its clock, its data) does not undo them.
        subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "-p",
                        "screens_plugin", "-q", "-n", "0", *BEFORE_TESTS], cwd=tree, env=env)
    return 0 if all((target / f"{name}.png").exists() for name, _ in BEFORE_AFTER) else 1


def main() -> int:
    SCREENS.mkdir(parents=True, exist_ok=True)
    status = before() if "--before" in sys.argv[1:] else 0
    env = {**os.environ, "DOORSTEP_SCREENS_DIR": str(SCREENS)}
    env.pop("DATABASE_URL", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", "-n", "0",
                          *TESTS], cwd=ROOT, env=env)
    refusal_letter(SCREENS / "letter-refusal.png")
    lines = ["# Screens", "",
             "What a person sees, phone and desk, taken from the e2e run by "
             "`docs/make_screens.py` (regenerate after changing a screen). Chinese, 1280 px "
             "desk and 360 px phone, as the tests open them.", ""]
    for name, caption in PICTURES:
        if (SCREENS / f"{name}.png").exists():
            lines += [f"## {caption}", "", f"![{caption}](screens/{name}.png)", ""]
    shown = [(n, c) for n, c in BEFORE_AFTER
             if (SCREENS / "before" / f"{n}.png").exists() and (SCREENS / f"{n}.png").exists()]
    if shown:
        lines += ["# Before and after issue 21", "",
                  f"Before: commit {BEFORE} (`docs/make_screens.py --before`); after: this tree.",
                  ""]
        for name, caption in shown:
            lines += [f"## {caption}", "", "| Before | After |", "| --- | --- |",
                      f"| ![before](screens/before/{name}.png) | ![after](screens/{name}.png) |",
                      ""]
    (ROOT / "docs" / "screens.md").write_text("\n".join(lines), encoding="utf-8")
    return run.returncode or status


if __name__ == "__main__":
    raise SystemExit(main())
