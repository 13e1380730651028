"""The pairs bench/eval_identity.py --people compares, and the error rates it reports (no dlib)."""

from __future__ import annotations

from bench.eval_identity import Sample, error_rates, pairs


def _named(samples, chosen):
    return {(samples[i].photo, samples[j].photo) for i, j in chosen}


def test_two_photos_of_one_person_are_genuine_and_other_people_impostors():
    samples = [Sample("people/ann/1.jpg", "ann"), Sample("people/ann/2.jpg", "ann"),
               Sample("people/bo/1.jpg", "bo")]
    genuine, impostor = pairs(samples)
    assert _named(samples, genuine) == {("people/ann/1.jpg", "people/ann/2.jpg")}
    assert _named(samples, impostor) == {("people/ann/1.jpg", "people/bo/1.jpg"),
                                         ("people/ann/2.jpg", "people/bo/1.jpg")}


def test_faces_of_one_group_photo_are_impostors_but_two_group_photos_are_not_compared():
    samples = [Sample("groups/a.jpg", None), Sample("groups/a.jpg", None),
               Sample("groups/b.jpg", None), Sample("people/bo/1.jpg", "bo")]
    genuine, impostor = pairs(samples)
    assert genuine == []
    # within a.jpg; each group face against bo; never a.jpg against b.jpg (one person may be
    # in both)
    assert sorted(impostor) == [(0, 1), (0, 3), (1, 3), (2, 3)]


def test_error_rates_count_the_threshold_itself_as_the_same_person():
    frr, far = error_rates(genuine=[0.3, 0.6, 0.61, 0.7], impostor=[0.6, 0.59, 0.8, 0.9],
                           threshold=0.6)
    assert frr == 0.5  # 0.61 and 0.7 rejected; 0.6 accepted, as DlibIdentity.compare does
    assert far == 0.5  # 0.6 and 0.59 accepted


def test_no_pairs_give_zero_rates_rather_than_an_error():
    assert error_rates([], [], 0.6) == (0.0, 0.0)
