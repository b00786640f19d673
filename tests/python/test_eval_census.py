"""The error census sorts hand-made streams as a listener would, and its F1@50 agrees
with mir_eval's where the greedy matching cannot differ."""

from __future__ import annotations

from vocalmidi.eval.census import NOTE_KINDS, Census, census, census_by_kind
from vocalmidi.eval.metrics import score_clip, summarize
from vocalmidi.notes import Note

# Five sung notes, 0.4 s apart, each 0.35 s long.
REF = [Note(0.5 + 0.4 * i, 0.85 + 0.4 * i, p, 100) for i, p in enumerate([60, 62, 64, 65, 67])]


def test_a_stream_like_the_note_models_is_sorted_into_each_class() -> None:
    est = [
        Note(0.52, 0.87, 60, 90),  # on time
        Note(0.90, 0.93, 61, 90),  # an early guess, corrected 30 ms later ...
        Note(0.93, 1.25, 62, 90),  # ... to the right note, 30 ms after the onset: on time
        Note(1.37, 1.65, 64, 90),  # 70 ms late
        Note(1.65, 1.70, 63, 90),  # a wrong note that ends in a gap: not a guess
        Note(1.86, 2.05, 67, 90),  # a note nobody sang there (67 comes at 2.1)
    ]  # 65 at 1.7 is never sent; 67 at 2.1 neither (the 67 at 1.86 is 240 ms early)
    c = census(REF, est).as_dict()
    assert (c["on_time"], c["late_100"], c["late"], c["missed"]) == (2, 1, 0, 2)
    assert (c["guess"], c["extra"]) == (1, 2)
    assert c["n_ref"] == 5 and c["n_est"] == 6
    assert c["f1_50"] == round(2 * 2 / 11, 4)
    assert c["f1_50_without_guesses"] == round(2 * 2 / 10, 4)
    assert c["f1_50_late_100_on_time"] == round(2 * 3 / 11, 4)
    mir = summarize([score_clip(REF, est, 3.0)])
    assert c["f1_50"] == round(mir.f1_50, 4)


def test_late_notes_are_sorted_by_how_late_and_a_wrong_pitch_is_a_miss() -> None:
    est = [Note(n.start + lag, n.end, n.pitch, 90)
           for n, lag in zip(REF, [0.04, 0.09, 0.2, 0.35, 0.0], strict=True)]
    est[4] = Note(REF[4].start, REF[4].end, 68, 90)  # a semitone off
    c = census(REF, est)
    # 0.35 s late is past the census window: a miss, and the note an extra
    assert (c.on_time, c.late_100, c.late, c.missed, c.extra, c.guess) == (1, 1, 1, 2, 2, 0)
    total = c + c
    assert total.on_time == 2 and total.n_ref == 10 and total.n_est == 10


def test_a_perfect_stream_loses_nothing() -> None:
    c = census(REF, list(REF)).as_dict()
    assert c["f1_50"] == c["f1_50_without_guesses"] == c["f1_50_all_late_on_time"] == 1.0
    assert c["missed"] == c["guess"] == c["extra"] == 0


def test_the_true_notes_are_split_by_how_the_singer_reaches_them() -> None:
    # Sung legato (each note ends where the next starts), the third pitch sung twice.
    legato = [Note(0.5 + 0.4 * i, 0.9 + 0.4 * i, p, 100)
              for i, p in enumerate([60, 62, 64, 64, 67])]
    est = [Note(n.start + lag, n.end, n.pitch, 90)
           for n, lag in zip(legato, [0.01, 0.07, 0.02, 0.0, 0.0], strict=True)][:4]
    kinds = census_by_kind(legato, est)
    assert set(kinds) == set(NOTE_KINDS)
    assert (kinds["after a rest"].on_time, kinds["after a rest"].n_ref) == (1, 1)
    legato_changes = kinds["legato change"]  # 62 late, 64 on time, 67 never sent
    assert (legato_changes.on_time, legato_changes.late_100, legato_changes.missed) == (1, 1, 1)
    assert (kinds["repeated pitch"].on_time, kinds["repeated pitch"].n_ref) == (1, 1)
    assert all(c.n_est == c.on_time + c.late_100 + c.late for c in kinds.values())
    whole = census(legato, est)
    assert sum((c for c in kinds.values()), Census()).on_time == whole.on_time
    detached = [Note(n.start, n.end - 0.1, n.pitch, 100) for n in legato]  # 100 ms rests
    assert census_by_kind(detached, est)["after a rest"].n_ref == len(detached)
