"""Running our note model outside the engine: ONNX Runtime over a whole take
(:mod:`~vocalmidi.notemodel.run`) and the whole-take note decoder
(:mod:`~vocalmidi.notemodel.offline`) behind ``vocalmidi transcribe``. numpy and
onnxruntime only; training lives in :mod:`vocalmidi.train`.
"""
