"""Retention's pure rules (issue 22, ADR 0022): each kind's default, floor and source, the
six-month floor of the Cybersecurity Law, the cutoff, and the registration hook."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.retention import registry, rules


def test_every_kind_of_the_issue_has_a_default_within_its_floor_and_a_source():
    assert set(rules.CATALOGUE) == {"closed_application", "visit_photo", "checkin_selfie",
                                    "complaint_reporter", "sign_in_record", "audit_record"}
    for policy in rules.CATALOGUE.values():
        assert policy.minimum_days <= policy.default_days <= rules.LONGEST_DAYS
        assert rules.check_days(policy, policy.default_days) is None
        assert policy.source and policy.counted_from


def test_audit_and_sign_in_records_are_kept_at_least_six_months():
    # Cybersecurity Law Art. 21(3): network logs "不少于六个月"; July to December is 184 days.
    for kind in ("audit_record", "sign_in_record"):
        policy = rules.CATALOGUE[kind]
        assert "Cybersecurity Law Art. 21" in policy.source
        assert rules.check_days(policy, 183) == "retention-below-minimum"
        assert rules.check_days(policy, 184) is None
    assert rules.SIX_MONTHS_DAYS == 31 + 31 + 30 + 31 + 30 + 31


def test_a_setting_has_a_ceiling():
    policy = rules.CATALOGUE["visit_photo"]
    assert rules.check_days(policy, rules.LONGEST_DAYS) is None
    assert rules.check_days(policy, rules.LONGEST_DAYS + 1) == "retention-too-long"


def test_cutoff_counts_whole_days_back():
    now = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)
    assert rules.cutoff(now, 365) == datetime(2029, 3, 1, 2, 0, tzinfo=UTC)


def test_a_kind_outside_the_catalogue_must_bring_its_policy():
    with pytest.raises(ValueError, match="needs a policy"):
        registry.register_kind("unheard_of", lambda cutoff: [], lambda items, cutoff: None)
    mismatched = rules.CATALOGUE["visit_photo"]
    with pytest.raises(ValueError, match="policy given"):
        registry.register_kind("unheard_of", lambda cutoff: [], lambda items, cutoff: None,
                               policy=mismatched)


def test_a_registered_kind_is_listed_after_the_catalogue():
    policy = rules.RetentionPolicy("test_kind", 30, 30, "its creation", "a test")
    registry.register_kind("test_kind", lambda cutoff: [], lambda items, cutoff: None,
                           policy=policy)
    try:
        kinds = [p.kind for p in registry.policies()]
        assert kinds[:len(rules.CATALOGUE)] == list(rules.CATALOGUE)
        assert kinds[-1] == "test_kind" and registry.policy_of("test_kind") == policy
    finally:
        registry._kinds.pop("test_kind", None)
