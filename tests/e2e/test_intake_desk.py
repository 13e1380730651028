"""Intake at the window on the desk (issue 21): an intake clerk lands on the to-do list,
registers a household and its members, takes in the application (the case number shows),
assigns the suggested visit team (who is free, a rotating pair), and the case's timeline
names the investigators. Every step passes axe with 0 violations and shows no slug, in
Chinese and in English."""

from __future__ import annotations

import pytest

from tests.e2e.accessibility import assert_accessible, assert_no_slugs, shot
from tests.e2e.test_case_workflow import TOWN

pytestmark = pytest.mark.e2e


def wait_step(page, step: str) -> None:
    page.wait_for_selector(f"#main[data-view=intake][data-ready=true][data-step={step}]")


def test_an_intake_clerk_registers_takes_in_and_assigns_at_the_desk(desk):
    intake = desk(f"{TOWN}_intake")
    # Each role lands where its work is: the intake clerk on the to-do list, not "my cases".
    intake.wait_for_selector("#main[data-view=work][data-ready=true]")
    intake.click("#nav-intake")
    wait_step(intake, "household")
    assert_accessible(intake, "intake: household")
    shot(intake, "desk-intake-household")
    assert_no_slugs(intake, "intake: household", "#main")

    intake.fill("#in-address", "砚池社区5组12号")
    intake.fill("#in-member-0-name", "周建华")
    intake.click("#in-add-member")
    intake.fill("#in-member-1-name", "李桂兰")
    assert intake.input_value("#in-member-1-relation") == "spouse"
    intake.click("#in-household-save")
    wait_step(intake, "case")
    assert "周建华" in intake.inner_text("#in-household-done")
    assert_accessible(intake, "intake: case")

    intake.click("#in-case-save")
    wait_step(intake, "team")
    number = intake.inner_text("#in-case-done")
    assert "龙头山〔" in number and "低保第" in number, number
    intake.wait_for_selector("#in-team li")
    assert_accessible(intake, "intake: team")
    shot(intake, "desk-intake-team")
    assert_no_slugs(intake, "intake: team", "#main")
    suggested = intake.locator("#in-team input:checked")
    assert suggested.count() >= 2
    names = [intake.inner_text(f"label[for='{box.get_attribute('id')}']").split(" · ")[0]
             for box in suggested.all()]
    intake.click("#in-team-save")
    wait_step(intake, "done")
    done = intake.inner_text("#in-done")
    assert all(name in done for name in names), done
    assert_accessible(intake, "intake: done")

    # The case's timeline names the investigators (it read "指派调查员 · —").
    intake.click("#in-open-case")
    intake.wait_for_selector("#main[data-view=work-case][data-ready=true]")
    timeline = intake.inner_text("#wf-timeline")
    assert "指派调查员" in timeline and all(name in timeline for name in names), timeline
    assert "龙头山〔" in intake.inner_text("#wf-case-no")
    assert_accessible(intake, "case after intake")
    shot(intake, "desk-case")

    # The same screen in English.
    intake.goto("/#/intake")
    wait_step(intake, "household")
    intake.click("#toggle-lang")
    intake.wait_for_function(
        "() => document.querySelector('#main h1')?.textContent === 'Intake'")
    wait_step(intake, "household")
    assert intake.inner_text("#in-household-title") == "Step 1: the household"
    assert_accessible(intake, "intake in English")
    intake.click("#toggle-lang")
    intake.wait_for_function(
        "() => document.querySelector('#main h1')?.textContent === '受理登记'")
