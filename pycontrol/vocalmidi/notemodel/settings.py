"""The engine's note settings applied to notes decoded outside the engine.

The whole-take route decodes notes in Python; the settings a musician sets on the
plugin still mean the same there: the note range, key/scale snapping (nearest scale
note, as ``ScaleSnapper`` does in the engine), the shortest note, and fixed velocity.
Settings that only shape live tracking (sensitivity, latency mode, input gain, channel)
do not change a whole-take result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from vocalmidi.errors import UsageError
from vocalmidi.notes import Note

__all__ = ["apply_note_settings", "snap_to_scale"]

# Scale masks in the engine's order (Types.h Scale), semitones from the root.
_SCALES = (
    range(12), (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10), (0, 2, 3, 5, 7, 9, 10),
    (0, 1, 3, 5, 7, 8, 10), (0, 2, 4, 6, 7, 9, 11), (0, 2, 4, 5, 7, 9, 10),
    (0, 1, 3, 5, 6, 8, 10), (0, 2, 3, 5, 7, 8, 11), (0, 2, 4, 7, 9), (0, 3, 5, 7, 10),
    (0, 3, 5, 6, 7, 10),
)


def snap_to_scale(midi: float, scale: int, root: int) -> int:
    """Nearest note of ``scale`` (engine index) on ``root`` (0 = C); lower wins a tie."""
    steps = set(_SCALES[scale])
    base = math.floor(midi)
    best, best_d = round(midi), 1e9
    for c in range(base - 3, base + 5):
        if (c - root) % 12 in steps and abs(midi - c) < best_d - 1e-6:
            best, best_d = c, abs(midi - c)
    return best


def apply_note_settings(notes: Sequence[Note], params: Mapping[str, object]) -> list[Note]:
    """``notes`` with the engine parameters ``params`` (``vocalmidi.engine.PARAM_NAMES``)
    applied: range, scale snapping, shortest note, fixed velocity."""
    from vocalmidi.engine import PARAM_NAMES, _enum_value

    values: dict[str, float] = {}
    for name, value in params.items():
        if name not in PARAM_NAMES:
            raise UsageError(f"unknown parameter {name!r}")
        values[name] = _enum_value(name, value)
    lo, hi = int(values.get("note_min", 0)), int(values.get("note_max", 127))
    scale, root = int(values.get("scale", 0)), int(values.get("key_root", 0))
    shortest = values.get("min_note_ms", 0.0) / 1000.0
    fixed = int(values.get("fixed_velocity", 100)) if values.get("velocity_mode") == 0.0 else None
    out = []
    for n in notes:
        pitch = snap_to_scale(n.pitch, scale, root) if scale else n.pitch
        if not lo <= pitch <= hi or n.end - n.start < shortest:
            continue
        out.append(replace(n, pitch=pitch, velocity=fixed or n.velocity))
    return out
