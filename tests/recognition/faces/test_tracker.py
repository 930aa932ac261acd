"""The IoU tracker: one track per face over frames, encoded a few times, lost faces aged out."""

from __future__ import annotations

from recognition.faces.tracker import IouTracker, iou

T = bytes(512)


def shifted(box: tuple[int, int, int, int], dx: int) -> tuple[int, int, int, int]:
    top, right, bottom, left = box
    return (top, right + dx, bottom, left + dx)


def test_iou() -> None:
    box = (0, 10, 10, 0)
    assert iou(box, box) == 1.0
    assert iou(box, (20, 30, 30, 20)) == 0.0
    assert iou(box, shifted(box, 5)) == 50 / 150


def test_two_faces_keep_their_tracks_and_are_encoded_when_due() -> None:
    tracker = IouTracker(encodings_per_track=2, reencode_after=0.5, max_age=1.0)
    a, b = (100, 200, 200, 100), (100, 500, 200, 400)
    assert tracker.plan(0.0) == []
    first = tracker.update(0.0, [(a, T), (b, T)])
    tracks = [face.track for face in first]
    assert len(set(tracks)) == 2
    for step in range(1, 5):  # walking right, 4 px a frame
        at = step * 0.1
        skip = tracker.plan(at)
        assert sorted(skip) == sorted(shifted(box, 4 * (step - 1)) for box in (a, b))
        seen = tracker.update(at, [(shifted(a, 4 * step), None), (shifted(b, 4 * step), None)])
        assert [face.track for face in seen] == tracks
    assert tracker.plan(0.5) == []  # both due for their second encoding
    assert len(tracker.plan(0.6)) == 2  # planned already: not again
    assert len(tracker.plan(1.3)) == 2  # two encodings each: enough (seen 0.9 s ago)


def test_an_older_frame_does_not_move_a_track_and_lost_faces_age_out() -> None:
    tracker = IouTracker(max_age=1.0)
    a = (100, 200, 200, 100)
    tracker.update(0.2, [(shifted(a, 10), T)])
    late = tracker.update(0.1, [(a, None)])  # came back after a newer frame
    assert tracker.tracks[0].box == shifted(a, 10)
    assert late[0].track == tracker.tracks[0].id
    tracker.update(1.5, [])
    assert tracker.tracks == []
    again = tracker.update(1.6, [(a, T)])
    assert again[0].track != late[0].track  # a new track for a face seen anew


def test_a_face_in_the_place_of_one_long_gone_is_a_new_track_and_encoded() -> None:
    # Found by benchmarks/bench_face_lane.py: the next person stepping into the spot where
    # the last one stood seconds ago shared their finished track and was never encoded.
    tracker = IouTracker(encodings_per_track=1, max_age=1.0)
    spot = (100, 300, 300, 100)
    assert tracker.plan(0.0) == []
    first = tracker.update(0.0, [(spot, T)])
    assert tracker.plan(0.5) == [spot]  # the same face, encoded enough
    tracker.update(0.5, [(spot, None)])
    assert tracker.plan(5.0) == []  # gone for 4.5 s: whoever is there now is encoded
    later = tracker.update(5.0, [(spot, T)])
    assert later[0].track != first[0].track
