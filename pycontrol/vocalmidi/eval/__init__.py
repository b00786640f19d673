"""Evaluation: rendered sung melodies with exact ground truth, metrics, peer systems.

- :mod:`vocalmidi.eval.melodies` picks melodies from music21's bundled corpus;
- :mod:`vocalmidi.eval.perform` turns a score into a sung-like performance (scoops,
  vibrato, legato);
- :mod:`vocalmidi.eval.synth` renders it with FluidSynth;
- :mod:`vocalmidi.eval.render` is the one-call demo take;
- :mod:`vocalmidi.eval.conditions` adds room reverb and noise;
- :mod:`vocalmidi.eval.dataset` builds and loads an evaluation set;
- :mod:`vocalmidi.eval.metrics` scores transcriptions (mir_eval);
- :mod:`vocalmidi.eval.systems` holds the systems under test (ours and peers);
- :mod:`vocalmidi.eval.runner` and :mod:`vocalmidi.eval.report` run and report.
- :mod:`vocalmidi.eval.bound` bounds live emission latency from SwiftF0's pitch.
"""
