"""Pure retention rules: the catalogue of kinds with their defaults and legal sources, the
floor under each setting, and the cutoff a setting gives.

A setting is a number of days, counted from the moment each kind names (``counted_from``).
Defaults follow PIPL Art. 19 (keep only as long as the purpose needs) and Art. 47 (delete
when the purpose is met); a floor comes from a law that says "at least".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Cybersecurity Law Art. 21(3): network logs are kept "不少于六个月". Six calendar months
# are at most 184 days (July to December), so 184 days is six months whatever the start.
SIX_MONTHS_DAYS = 184
# No setting may be longer than this: a typo of 36500 would keep data for a century.
LONGEST_DAYS = 365 * 30


@dataclass(frozen=True)
class RetentionPolicy:
    """One kind of data: its default, the floor a setting may not go under, and why."""

    kind: str
    default_days: int
    minimum_days: int
    counted_from: str  # the moment the days count from, in words for the operator
    source: str  # where the default (and the floor) come from


CLOSED_APPLICATION = "closed_application"
VISIT_PHOTO = "visit_photo"
CHECKIN_SELFIE = "checkin_selfie"
COMPLAINT_REPORTER = "complaint_reporter"
SIGN_IN_RECORD = "sign_in_record"
AUDIT_RECORD = "audit_record"

CATALOGUE: dict[str, RetentionPolicy] = {policy.kind: policy for policy in (
    RetentionPolicy(
        CLOSED_APPLICATION, 730, SIX_MONTHS_DAYS,
        "the last change of a refused or withdrawn application",
        "PIPL Art. 19 and 47: the purpose ends with the refusal or withdrawal; kept two years "
        "so an administrative reconsideration (60 days, Administrative Reconsideration Law "
        "Art. 20) or a lawsuit (6 months, Administrative Litigation Law Art. 46) can still "
        "see the file, and a new application can be compared with it; never under 6 months"),
    RetentionPolicy(
        VISIT_PHOTO, 1095, SIX_MONTHS_DAYS,
        "the receipt of the home visit the photo belongs to",
        "PIPL Art. 19: a recipient is reviewed at least yearly (periodic review, DOMAIN.md), "
        "so a photo older than three years no longer shows the home as it is; three years "
        "also cover a spot check's look back"),
    RetentionPolicy(
        CHECKIN_SELFIE, 365, 90,
        "the receipt of the check-in",
        "PIPL Art. 28 (biometrics: sensitive) and Art. 19: the selfie and any face data "
        "derived from it serve one check-in; kept one year for the follow-up of a flagged "
        "check-in and the yearly review; at least one quarter (a quarterly recipient's window)"),
    RetentionPolicy(
        COMPLAINT_REPORTER, 730, SIX_MONTHS_DAYS,
        "the closing of the complaint",
        "PIPL Art. 19 and the protection of informants (信访工作条例, 2022: an informant's "
        "identity is never disclosed): the reporter's identity is kept only while the "
        "complaint may be reopened; the complaint itself stays"),
    RetentionPolicy(
        SIGN_IN_RECORD, 365, SIX_MONTHS_DAYS,
        "the sign-in's last use",
        "Cybersecurity Law Art. 21(3): network logs at least six months; GB/T 22239-2019 "
        "8.1.4.3 (security audit); one year by default"),
    RetentionPolicy(
        AUDIT_RECORD, 1095, SIX_MONTHS_DAYS,
        "the audit record's time",
        "Cybersecurity Law Art. 21(3): at least six months, refused below it; three years by "
        "default so a recipient's whole allowance period and its reviews stay traceable "
        "(全程留痕)"),
)}


def check_days(policy: RetentionPolicy, days: int) -> str | None:
    """Why ``days`` cannot be the setting of ``policy`` (a problem slug), or None."""
    if days < policy.minimum_days:
        return "retention-below-minimum"
    if days > LONGEST_DAYS:
        return "retention-too-long"
    return None


def cutoff(now: datetime, days: int) -> datetime:
    """Data counted from before this moment is past its retention."""
    return now - timedelta(days=days)
