"""Integrity flags of a home visit (入户调查).

Sources (shared DOMAIN.md): 004 requires at least 2 staff on every visit, 002/004 that whoever
investigates signs and answers for it (谁调查谁签字谁负责), and 003 a full trace of the visit
(全程留痕). The flags are that trace's evidence for the reviewer; they never block anything.

Every threshold is tested just inside (no flag) and just outside (flag). Distances are made
with geopy's geodesic ``destination``, so "499 m" is 499 m by the same measure the rules use.
"""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import distance

from backend.visits import rules
from backend.visits.rules import (
    Flag,
    GpsStamp,
    IntegrityThresholds,
    PhotoEvidence,
    integrity_flags,
    reused_photo_flag,
)

HOME = (27.19, 103.56)  # 鲁甸县 (004)
T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
DEFAULTS = IntegrityThresholds()


def offset(point, metres, bearing=0.0):
    """The point ``metres`` from ``point`` along ``bearing`` (0 = north, along the meridian)."""
    destination = distance(meters=metres).destination(point, bearing=bearing)
    return (destination.latitude, destination.longitude)


def stamp(kind, minutes=0.0, point=HOME, accuracy=10.0, device="phone-wang", user="wang"):
    return GpsStamp(
        lat=point[0],
        lon=point[1],
        accuracy_m=accuracy,
        captured_at=T0 + timedelta(minutes=minutes),
        kind=kind,
        device_id=device,
        user_id=user,
    )


def team_visit(minutes=30.0):
    """A clean visit: two investigators (004), each device stamps start and end at the home."""
    return [
        stamp("start", 0),
        stamp("start", 0.5, device="phone-li", user="li"),
        stamp("end", minutes),
        stamp("end", minutes - 0.5, device="phone-li", user="li"),
    ]


def photo(point=HOME, minutes=15.0, sha="a" * 64):
    return PhotoEvidence(sha256=sha, gps=point, taken_at=T0 + timedelta(minutes=minutes))


def flags_of(
    home=HOME,
    stamps=None,
    photos=(),
    received_after_minutes=31.0,
    sent_skew=timedelta(0),
    thresholds=DEFAULTS,
):
    received_at = T0 + timedelta(minutes=received_after_minutes)
    return integrity_flags(
        home,
        team_visit() if stamps is None else stamps,
        list(photos),
        received_at,
        None if sent_skew is None else received_at + sent_skew,
        thresholds,
    )


def codes(flags):
    return [flag.code for flag in flags]


def test_clean_two_person_visit_has_no_flags():
    assert flags_of(photos=[photo()]) == []


def test_every_flag_is_bilingual_and_json_ready():
    flags = flags_of(
        home=None,
        stamps=[
            stamp("photo", 0, accuracy=0),
            stamp("photo", 0, point=offset(HOME, 900), accuracy=500),
        ],
        photos=[PhotoEvidence("b" * 64, None, None)],
        sent_skew=timedelta(hours=1),
    )
    assert len(flags) >= 6
    for flag in flags:
        assert flag.severity in {"info", "warning", "alert"}
        assert flag.detail_zh and flag.detail_en
        json.dumps(flag.data)


# --- home location (003: 全程留痕, the visit proves where the household lives) -----------------


def test_home_location_unknown_is_info():
    flags = flags_of(home=None)

    assert codes(flags) == ["home-location-unknown"]
    assert flags[0].severity == "info"


@pytest.mark.parametrize(("metres", "flagged"), [(499, False), (501, True)])
def test_stamp_far_from_home(metres, flagged):
    stamps = [*team_visit(), stamp("photo", 10, point=offset(HOME, metres))]

    flags = [f for f in flags_of(stamps=stamps) if f.code == "stamp-far-from-home"]

    assert bool(flags) is flagged
    if flagged:
        assert flags[0].severity == "alert"
        assert flags[0].data["stamp_index"] == 4
        assert flags[0].data["distance_m"] == pytest.approx(501, abs=0.1)


def test_home_distance_is_a_jurisdiction_setting():
    stamps = [*team_visit(), stamp("photo", 10, point=offset(HOME, 501, bearing=90))]
    wider = replace(DEFAULTS, max_home_distance_m=1000)

    assert "stamp-far-from-home" in codes(flags_of(stamps=stamps))
    assert "stamp-far-from-home" not in codes(flags_of(stamps=stamps, thresholds=wider))


# --- accuracy and mocked locations -------------------------------------------------------------


@pytest.mark.parametrize(("accuracy", "flagged"), [(100.0, False), (100.5, True)])
def test_stamp_accuracy_poor(accuracy, flagged):
    stamps = [*team_visit(), stamp("photo", 10, accuracy=accuracy)]

    assert ("stamp-accuracy-poor" in codes(flags_of(stamps=stamps))) is flagged


def test_accuracy_exactly_zero_is_possibly_mocked():
    stamps = [*team_visit(), stamp("photo", 10, accuracy=0.0)]

    flags = [f for f in flags_of(stamps=stamps) if f.code == "location-possibly-mocked"]

    assert [f.data["reason"] for f in flags] == ["zero-accuracy"]
    assert flags[0].severity == "alert"


def test_unknown_accuracy_is_not_flagged():
    stamps = [*team_visit(), stamp("photo", 10, accuracy=None)]

    assert flags_of(stamps=stamps) == []


def _speed_pair(metres, seconds):
    """Two consecutive stamps of one device ``metres`` apart, ``seconds`` apart in time."""
    return [
        stamp("start", 0),
        stamp("photo", 10),
        stamp("photo", 10 + seconds / 60, point=offset(HOME, metres)),
        stamp("end", 30, point=offset(HOME, metres)),
    ]


def _mocked(flags):
    return [f for f in flags if f.code == "location-possibly-mocked"]


# 150 km/h is 2500 m a minute.
@pytest.mark.parametrize(("metres", "flagged"), [(2490, False), (2510, True)])
def test_impossible_speed_between_consecutive_stamps(metres, flagged):
    flags = _mocked(flags_of(home=None, stamps=_speed_pair(metres, 60)))

    assert bool(flags) is flagged
    if flagged:
        assert flags[0].data["reason"] == "impossible-speed"
        assert flags[0].data["speed_kmh"] == pytest.approx(150.6, abs=0.1)
        assert [
            flags[0].data["stamp_a"]["stamp_index"],
            flags[0].data["stamp_b"]["stamp_index"],
        ] == [1, 2]


def test_speed_limit_is_a_jurisdiction_setting():
    slower = replace(DEFAULTS, max_speed_kmh=60)

    assert _mocked(flags_of(home=None, stamps=_speed_pair(1100, 60), thresholds=slower))
    assert not _mocked(flags_of(home=None, stamps=_speed_pair(990, 60), thresholds=slower))


def test_jitter_under_five_seconds_is_ignored():
    # 30 m in 1 s would be 108 km/h; 45 m in 1 s 162 km/h: both are jitter of a GPS fix.
    assert not _mocked(flags_of(home=None, stamps=_speed_pair(45, 1)))


def test_large_jump_under_five_seconds_is_flagged():
    assert _mocked(flags_of(home=None, stamps=_speed_pair(60, 1)))


def test_two_places_at_the_same_instant_is_flagged():
    flags = _mocked(flags_of(home=None, stamps=_speed_pair(300, 0)))

    assert flags and flags[0].data["speed_kmh"] is None


def test_speed_is_not_measured_between_two_devices():
    stamps = [
        *team_visit(),
        stamp("photo", 10),
        stamp("photo", 10, point=offset(HOME, 150), device="phone-li", user="li"),
    ]

    assert not _mocked(flags_of(stamps=stamps))


# --- visit start, end, duration ----------------------------------------------------------------


def test_missing_start_and_end_stamps():
    flags = flags_of(stamps=[stamp("photo", 5)])

    assert codes(flags) == ["missing-start-stamp", "missing-end-stamp"]
    assert {f.severity for f in flags} == {"warning"}


def test_missing_end_only():
    assert codes(flags_of(stamps=[stamp("start", 0)])) == ["missing-end-stamp"]


@pytest.mark.parametrize(("minutes", "flagged"), [(10.0, False), (9.99, True)])
def test_visit_too_short(minutes, flagged):
    stamps = [stamp("start", 0), stamp("end", minutes)]

    assert codes(flags_of(stamps=stamps)) == (["visit-too-short"] if flagged else [])


def test_visit_runs_from_earliest_start_to_latest_end():
    # One device stamps a short stay, the other the whole visit: the visit is 0..12 min.
    stamps = [
        stamp("start", 0),
        stamp("end", 3),
        stamp("start", 2, device="phone-li", user="li"),
        stamp("end", 12, device="phone-li", user="li"),
    ]

    assert "visit-too-short" not in codes(flags_of(stamps=stamps))


def test_minimum_duration_is_a_jurisdiction_setting():
    stamps = [stamp("start", 0), stamp("end", 12)]

    assert codes(flags_of(stamps=stamps, thresholds=replace(DEFAULTS, min_visit_minutes=15))) == [
        "visit-too-short"
    ]


def test_visit_end_before_start():
    flags = flags_of(stamps=[stamp("start", 20), stamp("end", 5)])

    assert codes(flags) == ["visit-end-before-start"]
    assert flags[0].severity == "alert"


# --- two investigators together (004: at least 2 staff) ---------------------------------------


@pytest.mark.parametrize(("metres", "flagged"), [(199, False), (201, True)])
def test_team_devices_far_apart(metres, flagged):
    stamps = [
        stamp("start", 0),
        stamp("start", 1, point=offset(HOME, metres, bearing=180), device="phone-li", user="li"),
        stamp("end", 30),
    ]

    flags = [f for f in flags_of(home=None, stamps=stamps) if f.code == "team-devices-far-apart"]

    assert bool(flags) is flagged
    if flagged:
        assert flags[0].severity == "alert"
        assert flags[0].data["seconds_apart"] == 60
        assert {flags[0].data["stamp_a"]["user_id"], flags[0].data["stamp_b"]["user_id"]} == {
            "wang",
            "li",
        }


def test_team_compares_the_closest_in_time_pair():
    # li's first stamp, 2 min after wang's start, is at the home; a later stamp far away is
    # not the closest in time to any of wang's stamps.
    stamps = [
        stamp("start", 0),
        stamp("end", 30),
        stamp("start", 2, device="phone-li", user="li"),
        stamp("photo", 16, point=offset(HOME, 400), device="phone-li", user="li"),
    ]

    assert "team-devices-far-apart" not in codes(flags_of(home=None, stamps=stamps))


@pytest.mark.parametrize(("gap_minutes", "flagged"), [(15, True), (15.5, False)])
def test_team_pair_must_be_within_fifteen_minutes(gap_minutes, flagged):
    stamps = [
        stamp("start", 0),
        stamp("photo", gap_minutes, point=offset(HOME, 400), device="phone-li", user="li"),
    ]

    assert ("team-devices-far-apart" in codes(flags_of(home=None, stamps=stamps))) is flagged


def test_team_devices_known_by_user_when_no_device_id():
    stamps = [
        stamp("start", 0, device=None),
        stamp("start", 1, point=offset(HOME, 300), device=None, user="li"),
        stamp("end", 30, device=None),
    ]

    assert "team-devices-far-apart" in codes(flags_of(home=None, stamps=stamps))


def test_one_shared_device_is_not_compared_with_itself():
    stamps = [
        stamp("start", 0),
        stamp("photo", 1, point=offset(HOME, 150), user="li"),
        stamp("end", 30),
    ]

    assert "team-devices-far-apart" not in codes(flags_of(home=None, stamps=stamps))


def test_team_distance_is_a_jurisdiction_setting():
    stamps = [
        stamp("start", 0),
        stamp("start", 1, point=offset(HOME, 150), device="phone-li", user="li"),
        stamp("end", 30),
    ]
    tighter = replace(DEFAULTS, max_team_distance_m=100)

    assert "team-devices-far-apart" in codes(flags_of(home=None, stamps=stamps, thresholds=tighter))


# --- device clock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skew", "flagged"),
    [
        (timedelta(minutes=10), False),
        (timedelta(minutes=-10), False),
        (timedelta(minutes=10, seconds=1), True),
        (timedelta(minutes=-10, seconds=-1), True),
    ],
    ids=["ahead-inside", "behind-inside", "ahead-outside", "behind-outside"],
)
def test_device_clock_skew(skew, flagged):
    flags = flags_of(sent_skew=skew)

    assert codes(flags) == (["device-clock-skew"] if flagged else [])
    if flagged:
        assert flags[0].data["skew_seconds"] == skew.total_seconds()


def test_no_sent_at_no_clock_check():
    assert flags_of(sent_skew=None) == []


# --- photos ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("metres", "flagged"), [(499, False), (501, True)])
def test_photo_far_from_home(metres, flagged):
    flags = flags_of(photos=[photo(point=offset(HOME, metres, bearing=45))])

    assert codes(flags) == (["photo-far-from-visit"] if flagged else [])
    if flagged:
        assert flags[0].data["reference"] == "home"


@pytest.mark.parametrize(("metres", "flagged"), [(499, False), (501, True)])
def test_photo_far_from_start_stamp_when_home_unknown(metres, flagged):
    start = offset(HOME, 2000)
    stamps = [stamp("start", 0, point=start), stamp("end", 30, point=start)]

    flags = flags_of(home=None, stamps=stamps, photos=[photo(point=offset(start, metres))])

    photo_flags = [f for f in flags if f.code == "photo-far-from-visit"]
    assert bool(photo_flags) is flagged
    if flagged:
        assert photo_flags[0].data["reference"] == "start-stamp"


@pytest.mark.parametrize(
    ("minutes", "flagged"),
    [(30 + 60, False), (30 + 61, True), (-60, False), (-61, True)],
    ids=["after-inside", "after-outside", "before-inside", "before-outside"],
)
def test_photo_time_outside_visit(minutes, flagged):
    flags = flags_of(photos=[photo(minutes=minutes)])

    assert codes(flags) == (["photo-time-outside-visit"] if flagged else [])
    if flagged:
        assert flags[0].data["minutes_outside"] == 61


def test_photo_time_gap_is_a_jurisdiction_setting():
    assert codes(
        flags_of(
            photos=[photo(minutes=60)], thresholds=replace(DEFAULTS, max_photo_time_gap_minutes=20)
        )
    ) == ["photo-time-outside-visit"]


def test_photo_without_exif_location_is_info():
    flags = flags_of(photos=[PhotoEvidence("c" * 64, None, T0)])

    assert codes(flags) == ["photo-no-exif-location"]
    assert flags[0].severity == "info"
    assert flags[0].data == {"sha256": "c" * 64}


def test_photo_without_exif_time_is_only_checked_for_place():
    assert flags_of(photos=[PhotoEvidence("d" * 64, HOME, None)]) == []


def test_reused_photo_flag():
    flag = reused_photo_flag("e" * 64, "household-42", 3)

    assert flag == Flag(
        "photo-reused-other-household",
        {"sha256": "e" * 64, "other_household_id": "household-42", "dhash_distance": 3},
    )
    assert flag.severity == "alert"
    assert flag.detail_en == "This photo matches a photo of another household."


# --- inputs ------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        GpsStamp(1.0, 2.0, 5.0, datetime(2024, 5, 6, 2, 0), "start")
    with pytest.raises(ValueError):
        PhotoEvidence("f" * 64, None, datetime(2024, 5, 6, 2, 0))
    with pytest.raises(ValueError):
        integrity_flags(HOME, team_visit(), [], datetime(2024, 5, 6), None)


def test_unknown_stamp_kind_is_refused():
    with pytest.raises(ValueError):
        GpsStamp(1.0, 2.0, 5.0, T0, "middle")  # type: ignore[arg-type]


def test_default_thresholds_are_documented_values():
    assert DEFAULTS == IntegrityThresholds(
        max_home_distance_m=500,
        max_accuracy_m=100,
        min_visit_minutes=10,
        max_team_distance_m=200,
        max_clock_skew_minutes=10,
        max_photo_distance_m=500,
        max_photo_time_gap_minutes=60,
        max_speed_kmh=150,
    )


# --- masked resident IDs sent back (DOMAIN.md "Identity data": shown masked, 1101****1234) --

REAL = "53062119560309022X"
SPOUSE = "530621195501010014"
PATHS = ["members.id_number"]


def test_a_masked_id_stands_for_the_previous_revisions_number():
    data = {"members": [{"name": "甲", "id_number": "5306**********022X"}]}
    previous = {"members": [{"name": "甲", "id_number": REAL}]}
    answers, errors = rules.unmask_resident_ids(data, PATHS, previous, [])
    assert errors == {} and answers["members"][0]["id_number"] == REAL
    assert data["members"][0]["id_number"] == "5306**********022X"  # the input is untouched


def test_a_masked_id_stands_for_the_one_registered_number_it_matches():
    data = {"members": [{"id_number": "5306**********0014"}, {"id_number": REAL}]}
    answers, errors = rules.unmask_resident_ids(data, PATHS, {}, [REAL, SPOUSE])
    assert errors == {}
    assert [m["id_number"] for m in answers["members"]] == [SPOUSE, REAL]


def test_a_mask_matching_nothing_or_two_numbers_is_refused():
    twin = "530621195602030014"  # another registered number with the same mask as SPOUSE
    data = {"members": [{"id_number": "5306**********9999"},
                        {"id_number": "5306**********0014"}]}
    answers, errors = rules.unmask_resident_ids(data, PATHS, {}, [SPOUSE, twin])
    assert set(errors) == {"members[0].id_number", "members[1].id_number"}
    # the previous revision's number at the same place decides between them
    previous = {"members": [{}, {"id_number": twin}]}
    _, errors = rules.unmask_resident_ids(data, PATHS, previous, [SPOUSE, twin])
    assert set(errors) == {"members[0].id_number"}


def test_full_numbers_and_other_answers_pass_through():
    data = {"members": [{"id_number": SPOUSE}, "not a row"], "contact_mobile": "139****4321"}
    answers, errors = rules.unmask_resident_ids(data, PATHS, {}, [])
    assert errors == {} and answers == data
