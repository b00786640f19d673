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

# The front end (audio -> per-frame features; vocalmidi.train.features says what each
# block is for). It is part of the contract because it runs in three places that must
# agree: inside a note-model/1 graph (torch, exported), and before a note-features/1 graph
# in Python (vocalmidi.train.front_end_np) and in the engine (engine/src/dsp/NoteFrontEnd).
LONG_BINS = (2, 257)  # rfft bins [2, 257) of the 1,024-sample window
SHORT_BINS = (1, 129)  # rfft bins [1, 129) of the 256-sample window
MID_BINS = (1, 129)  # rfft bins [1, 129) of the optional 512-sample window
FEATURES = (LONG_BINS[1] - LONG_BINS[0]) + (SHORT_BINS[1] - SHORT_BINS[0]) + 1
POWER_FLOOR = 1e-10  # -100 dB: keeps log10 finite on digital silence
LAG_NOTES = (36.0, 86.0)  # MIDI range of the lag correlations (the model's note classes)
LAG_STEP = 0.5  # semitones between lag periods
LAG_COUNT = int(round((LAG_NOTES[1] - LAG_NOTES[0]) / LAG_STEP)) + 1  # 101
LAG_SPAN = 512  # the lag correlation's audio: the recent part and up to one period before
LAG_FFT = WINDOW  # zero-padded DFT size (the long window's DFT): no wrap for any period
LAG_FLOOR = 0.05  # the earlier stretch's energy counts at least this share of the recent one
LAG_CLIP = 1.5  # |correlation| cap (it is ~1 at a clean period)
LAG_BINS = (1, 97)  # 15.6 Hz to 1.5 kHz: DC out, the harmonics that carry the period in
PEAK_COUNT = 3  # optional values read off the highest lag correlation


def feature_count(mid_window: int = 0, lag_window: int = 0, lag_peak: bool = False) -> int:
    """Features per frame of a front end with (``MID_WINDOW``) or without (0) the middle
    window, with (``LAG_WINDOW``) or without (0) the lag correlations, and with or
    without the values read off their peak."""
    if mid_window not in (0, MID_WINDOW):
        raise ValueError(f"mid_window must be 0 or {MID_WINDOW}, got {mid_window}")
    if lag_window not in (0, LAG_WINDOW):
        raise ValueError(f"lag_window must be 0 or {LAG_WINDOW}, got {lag_window}")
    if lag_peak and not lag_window:
        raise ValueError("lag_peak needs the lag correlations (lag_window)")
    return (FEATURES + (MID_BINS[1] - MID_BINS[0] if mid_window else 0)
            + (LAG_COUNT if lag_window else 0) + (PEAK_COUNT if lag_peak else 0))


def lag_period_samples():  # -> numpy.ndarray (numpy imported lazily: this module is plain)
    """Periods in model samples (float64) of the lag correlations, lowest note first."""
    import numpy as np

    notes = LAG_NOTES[0] + LAG_STEP * np.arange(LAG_COUNT, dtype=np.float64)
    return SAMPLE_RATE / (440.0 * 2.0 ** ((notes - 69.0) / 12.0))


# Written pitch classes: MIDI NOTE_MIN..NOTE_MAX (C2..D6), covering low male to whistle.
NOTE_MIN = 36
NOTE_MAX = 86
NUM_NOTES = NOTE_MAX - NOTE_MIN + 1

# The raw head of a frame (a note-features/1 graph's "head" output; note-model/1 graphs turn
# it into the five outputs inside): onset and sounding logits, a logit per note class
# NOTE_MIN..NOTE_MAX, and the performed minus the written pitch in semitones. onset =
# sigmoid, sounding = sigmoid, note = NOTE_MIN + argmax, note_conf = its softmax
# probability, pitch = note + cents (train/model.py _outputs, export.head_outputs, and the
# engine's NoteModel::readFrames).
HEAD_ONSET = 0
HEAD_SOUNDING = 1
HEAD_NOTES = slice(2, 2 + NUM_NOTES)
HEAD_CENTS = 2 + NUM_NOTES
HEAD_SIZE = HEAD_CENTS + 1

# ONNX tensor names (streaming graph).
INPUT_AUDIO = "audio"  # float32 [1, n * HOP]
INPUT_CONTEXT = "ctx_in"  # float32 [1, CONTEXT]
INPUT_HIDDEN = "h_in"  # float32 [LAYERS, 1, HIDDEN] (GRU state; sizes read from the graph)
INPUT_FEATURES = "features"  # float32 [1, n, F], note-features/1 graphs: the front end's output
INPUT_KEEP = "keep"  # int64 [1], whole-take graphs only: hops after which the state is taken
OUTPUT_ONSET = "onset"  # float32 [1, n]: probability that a note starts in the frame
OUTPUT_SOUNDING = "sounding"  # float32 [1, n]: probability that a note sounds in the frame
OUTPUT_NOTE = "note"  # float32 [1, n]: most likely written MIDI note (an integer value)
OUTPUT_NOTE_CONF = "note_conf"  # float32 [1, n]: that note's probability
OUTPUT_PITCH = "pitch"  # float32 [1, n]: performed fine pitch, MIDI semitones (60.25 = C4 +25c)
OUTPUT_HEAD = "head"  # float32 [1, n, HEAD_SIZE], note-features/1 graphs: the raw head (below)
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
