"""The tracker: ids, gap bridging, extension at track ends, padding, bounded state."""

from __future__ import annotations

import pytest

from bodycam.redaction.detect import Detection
from bodycam.redaction.track import Tracker, iou, pad_box


def det(x: float, y: float, size: float = 20.0, score: float = 0.9) -> Detection:
    return Detection(x, y, x + size, y + size, score)


def run(tracker: Tracker, frames: dict[int, list[Detection]], total: int) -> dict[int, list]:
    for f in range(total):
        tracker.update(f, frames.get(f, []))
    tracker.finish()
    return {f: tracker.boxes_at(f) for f in range(total)}


def test_one_moving_face_is_one_track() -> None:
    tracker = Tracker(margin=0.0, temporal_union=0)
    out = run(tracker, {f: [det(10 + 3 * f, 50)] for f in range(30)}, 30)
    assert {tid for boxes in out.values() for tid, _ in boxes} == {1}
    assert out[10] == [(1, (40.0, 50.0, 60.0, 70.0))]
    (summary,) = tracker.summaries()
    assert (summary.first_frame, summary.last_frame, summary.detections) == (0, 29, 30)


def test_a_gap_is_bridged_by_interpolation() -> None:
    frames = {f: [det(10 + 4 * f, 50)] for f in range(20) if f not in (8, 9, 10)}
    out = run(Tracker(margin=0.0, drift=0.0, temporal_union=0), frames, 20)
    for f in (8, 9, 10):
        ((tid, box),) = out[f]
        assert tid == 1
        assert box == pytest.approx((10 + 4 * f, 50, 30 + 4 * f, 70))


def test_a_long_gap_is_not_drawn_but_the_track_keeps_its_id() -> None:
    frames = {f: [det(10 + 2 * f, 50)] for f in range(40) if not 5 <= f < 25}
    out = run(Tracker(max_gap=4, extend=2, temporal_union=0, reconnect=30), frames, 40)
    assert out[15] == []
    assert out[6] and out[23]  # extended two frames after and before the detections
    assert out[7] == [] and out[22] == []
    assert {tid for boxes in out.values() for tid, _ in boxes} == {1}


def test_a_gap_longer_than_reconnect_splits_the_track() -> None:
    frames = {f: [det(10, 50)] for f in range(30) if not 5 <= f < 20}
    out = run(Tracker(max_gap=4, extend=2, temporal_union=0, reconnect=8), frames, 30)
    assert out[12] == []
    assert out[6] and out[18]  # extended two frames after and before the detections
    assert out[7] == [] and out[17] == []
    assert {tid for boxes in out.values() for tid, _ in boxes} == {1, 2}


def test_tracks_are_extrapolated_at_both_ends() -> None:
    frames = {f: [det(100 + 5 * f, 50)] for f in range(10, 20)}
    out = run(Tracker(extend=3, margin=0.0, drift=0.0, temporal_union=0), frames, 30)
    assert out[6] == [] and out[23] == []
    ((_, before),) = out[7]
    ((_, after),) = out[22]
    assert before == pytest.approx((135, 50, 155, 70), abs=6)
    assert after == pytest.approx((210, 50, 230, 70), abs=6)


def test_two_crossing_faces_keep_their_ids() -> None:
    frames = {f: [det(10 + 5 * f, 50), det(200 - 5 * f, 58)] for f in range(40)}
    out = run(Tracker(margin=0.0, temporal_union=0), frames, 40)
    first = {tid: box for tid, box in out[0]}
    last = {tid: box for tid, box in out[39]}
    assert set(first) == set(last) == {1, 2}
    assert first[1][0] < first[2][0] and last[1][0] > last[2][0]


def test_boxes_are_padded_and_joined_with_their_neighbours() -> None:
    frames = {f: [det(10 + 10 * f, 50)] for f in range(10)}
    out = run(Tracker(margin=0.25, temporal_union=1), frames, 10)
    ((_, box),) = out[5]
    # Frame 5 is x 60-80; frames 4 and 6 are 10 px either side; each padded by 5 px.
    assert box == pytest.approx((45.0, 45.0, 95.0, 75.0))


def test_asking_too_early_is_an_error() -> None:
    tracker = Tracker()
    tracker.update(0, [det(0, 0)])
    with pytest.raises(ValueError, match="not final"):
        tracker.boxes_at(0)
    with pytest.raises(ValueError, match="comes after"):
        tracker.update(0, [])


def test_state_stays_bounded_on_a_long_stream() -> None:
    tracker = Tracker()
    look = tracker.lookahead
    for f in range(5000):
        tracker.update(f, [det(10 + (f % 100) / 2, 50)] if (f // 100) % 2 == 0 else [])
        if f >= look:
            tracker.boxes_at(f - look)
    assert len(tracker._tracks) <= 1
    assert all(len(t.frames) <= look + 3 for t in tracker._tracks)
    assert len(tracker.summaries()) == 25


def test_box_helpers() -> None:
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert pad_box((10, 10, 20, 30), 0.5) == (5, 0, 25, 40)
