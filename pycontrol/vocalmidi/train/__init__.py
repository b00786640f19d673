"""Our own note model: generated training data, training, streaming ONNX export and the
Python reference decoder. The contract all of them share is :mod:`vocalmidi.train.contract`.

Only :mod:`~vocalmidi.train.contract`, :mod:`~vocalmidi.train.labels` and
:mod:`~vocalmidi.train.decode` work without torch; training and export need the ``dev``
extra.
"""
