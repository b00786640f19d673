"""The note model's contract: rates, framing, labels and tensor names, in one place.

Everything that makes, trains, exports, decodes or runs the note model (the data
generator, the trainer, the ONNX export, the Python reference decoder and the engine's
C++ adapter) reads these numbers from here or from ``docs/note-model.md``, which states
the same contract in words.

Framing
-------
Audio is mono float32 at ``SAMPLE_RATE`` (16 kHz). Label frame ``k`` spans model samples
``[k * HOP, (k + 1) * HOP)`` (5 ms). Its model output is computed from the ``WINDOW``
samples that end at ``(k + 1 + LOOKAHEAD_HOPS) * HOP``: the model hears one hop (5 ms)
past the frame's end, so an onset anywhere in frame ``k`` is seen at most 10 ms after it
happened, window alignment included.

Streaming
---------
One ONNX graph serves the engine, the offline path and the tests. Each call takes the
next ``n * HOP`` samples (``n >= 1``; the engine sends one hop per call and a backlog in
one call) plus the state, and returns ``n`` output frames and the new state. The state
starts as silence before the stream: the context at zeros, the recurrent state at the
rest state (``export.REST_HOPS``). Output ``j`` of a call whose audio starts at
absolute sample ``S`` (a multiple of ``HOP``) is label frame ``S / HOP + j - LOOKAHEAD_HOPS``;
the very first output of a stream (label frame -1) is discarded, its onset counting for
frame 0 (``export.stream_frames``).
"""

from __future__ import annotations

SAMPLE_RATE = 16000
HOP = 80  # 5 ms
LOOKAHEAD_HOPS = 1  # model output for frame k needs audio up to (k + 2) * HOP
WINDOW = 1024  # long analysis window (64 ms) for pitch
SHORT_WINDOW = 256  # short window (16 ms) for attacks, same right edge
MID_WINDOW = 512  # optional middle window (32 ms), same right edge ([model] mid_window)
LAG_WINDOW = 160  # optional lag correlations of the last 10 ms ([model] lag_window)
CONTEXT = WINDOW - HOP  # audio samples carried in the state
MAX_FILE_BYTES = 2_000_000  # a shipped streaming model's ONNX file (issue 13)

# Written pitch classes: MIDI NOTE_MIN..NOTE_MAX (C2..D6), covering low male to whistle.
NOTE_MIN = 36
NOTE_MAX = 86
NUM_NOTES = NOTE_MAX - NOTE_MIN + 1

# ONNX tensor names (streaming graph).
INPUT_AUDIO = "audio"  # float32 [1, n * HOP]
INPUT_CONTEXT = "ctx_in"  # float32 [1, CONTEXT]
INPUT_HIDDEN = "h_in"  # float32 [LAYERS, 1, HIDDEN] (GRU state; sizes read from the graph)
INPUT_KEEP = "keep"  # int64 [1], whole-take graphs only: hops after which the state is taken
OUTPUT_ONSET = "onset"  # float32 [1, n]: probability that a note starts in the frame
OUTPUT_SOUNDING = "sounding"  # float32 [1, n]: probability that a note sounds in the frame
OUTPUT_NOTE = "note"  # float32 [1, n]: most likely written MIDI note (an integer value)
OUTPUT_NOTE_CONF = "note_conf"  # float32 [1, n]: that note's probability
OUTPUT_PITCH = "pitch"  # float32 [1, n]: performed fine pitch, MIDI semitones (60.25 = C4 +25c)
OUTPUT_CONTEXT = "ctx_out"
OUTPUT_HIDDEN = "h_out"

# Label arrays of a training/validation clip (one value per label frame, see
# vocalmidi.train.labels): onset (uint8, 1 in the frame holding a note-on), sounding
# (uint8), note (int16 written MIDI note, -1 where silent), cents (float32 performed minus
# written pitch in cents, 0 where silent).
LABEL_KEYS = ("onset", "sounding", "note", "cents")


def num_frames(num_samples: int) -> int:
    """Label frames of a clip of ``num_samples`` model-rate samples (the last one partial)."""
    return -(-num_samples // HOP)


def frame_of_time(seconds: float) -> int:
    """The label frame holding time ``seconds``."""
    return int(seconds * SAMPLE_RATE) // HOP
