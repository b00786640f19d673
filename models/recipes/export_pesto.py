"""Recipe: PESTO (pesto-pitch 2.0.1, ``mir-1k_g7`` weights, LGPL-3.0) to the ONNX contract.

Usage::

    python models/recipes/export_pesto.py --out build/models-convert --check

PESTO computes a constant-Q transform (CQT) per frame, turns its magnitude into dB and
runs a small frequency-axis network on each frame independently (time is the batch
axis, so the model keeps no state between frames and any hop works). The package builds
its CQT as complex kernels and takes ``abs`` of a complex tensor, which ONNX cannot
express; this recipe builds the same kernels in numpy, keeps their real and imaginary
parts as two real matrices (one MatMul), and takes the magnitude as
``sqrt(re^2 + im^2)``.

The kernels are zero outside the support of the longest one (2127 taps), so the
graph's window W is that support rounded to an even number centred on the frame time
(W = 2128, 1064 samples = 66.5 ms of lookahead) instead of the package's 4096-sample
padded kernel; the result is identical.

PESTO's confidence depends on level (its voicing classifier sees absolute CQT energy):
a 220 Hz tone gives 1.0 at -6 dBFS, about 0.75 at -26 dBFS and the silence value
(about 0.11) at -46 dBFS, while its pitch stays exact. The package behaves the same;
the graph keeps that behaviour rather than normalising the input.

pesto itself is not imported as a package: its ``__init__`` pulls in torchaudio. The
parity check imports its ``loader``/``model``/``data`` modules straight from the pinned
wheel and runs the package's own ``PESTO`` model on the whole signal.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import onnx_contract  # noqa: E402
import recipe_cli  # noqa: E402
import synthetic_audio  # noqa: E402
from package_import import import_submodules  # noqa: E402
from wheel_source import RecipeError, WheelMember, unpack_wheel  # noqa: E402

MODEL_ID = "pesto"
SAMPLE_RATE = synthetic_audio.SAMPLE_RATE
HOP = 160
WEIGHTS = WheelMember(
    package="pesto-pitch", version="2.0.1", member="pesto/weights/mir-1k_g7.ckpt",
    sha256="16c32e06ddd950e3e4866dfa3c7f8a87c4988f8adf43e57977b189f031f26f3e")
CENTS_TOL = 1.0
CONF_TOL = 1e-3


def load_checkpoint(path: Path) -> dict:
    """Load the Lightning checkpoint without running arbitrary pickled code.

    Its hyper-parameters are omegaconf containers, so those classes (and the builtins
    they pickle) are allow-listed for torch's weights-only unpickler.
    """
    import collections
    import typing

    import torch
    from omegaconf import DictConfig, ListConfig
    from omegaconf.base import ContainerMetadata, Metadata
    from omegaconf.nodes import AnyNode

    allowed = [DictConfig, ListConfig, ContainerMetadata, Metadata, AnyNode, typing.Any,
               dict, list, int, collections.defaultdict]
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is one user error
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise RecipeError(f"cannot load {path.name}: {first}") from err


def cqt_kernels(sr: int, fmin: float, n_bins: int, bins_per_octave: int, gamma: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Time-domain CQT kernels (variable-Q with ``gamma``), L1-normalised, centred.

    Returns
    -------
    kernels : np.ndarray
        complex128 ``[n_bins, width]``, each kernel centred on index ``width // 2``.
    lengths : np.ndarray
        Kernel lengths in samples (their square roots rescale the output, as librosa).
    """
    from scipy.signal import get_window

    q = 1.0 / (2.0 ** (1.0 / bins_per_octave) - 1.0)
    alpha = 2.0 ** (1.0 / bins_per_octave) - 1.0
    freqs = fmin * 2.0 ** (np.arange(n_bins) / bins_per_octave)
    lengths = np.ceil(q * sr / (freqs + gamma / alpha))
    width = int(2 ** np.ceil(np.log2(lengths.max())))
    kernels = np.zeros((n_bins, width), dtype=np.complex128)
    for k, (freq, length) in enumerate(zip(freqs, lengths, strict=True)):
        n = int(length)
        # odd lengths sit one sample further left, as nnAudio places them
        start = int(np.ceil(width / 2.0 - n / 2.0)) - (n % 2)
        taps = np.arange(-n // 2, -n // 2 + n)  # floor(-n/2) ..
        sig = get_window("hann", n, fftbins=True) * np.exp(2j * np.pi * freq / sr * taps) / n
        kernels[k, start:start + n] = sig / np.abs(sig).sum()
    return kernels, lengths


def build_graph(ckpt: dict) -> tuple[object, int]:
    """Return ``(module, window)``: the real-valued contract module and its W."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    hcqt, hp = ckpt["hcqt_params"], ckpt["hparams"]
    enc = hp["encoder"]
    if list(hcqt["harmonics"]) != [1] or hp["reduction"] != "alwa":
        raise RecipeError("checkpoint uses harmonics/reduction this recipe does not handle")
    if enc["activation_fn"] != "leaky" or not enc["residual"] or enc["final_norm"] != "softmax":
        raise RecipeError("checkpoint encoder differs from the layout this recipe rebuilds")
    bps = int(hcqt["bins_per_semitone"])
    fmin = float(hcqt["fmin"])
    if hcqt["center_bins"]:
        fmin = fmin / 2 ** ((bps - 1) / (24 * bps))
    kernels, lengths = cqt_kernels(SAMPLE_RATE, fmin, int(hcqt["n_bins"]), 12 * bps,
                                   float(hcqt["gamma"]))
    centre = kernels.shape[1] // 2
    used = np.nonzero(np.abs(kernels).sum(axis=0))[0]
    half = int(max(centre - used[0], used[-1] + 1 - centre))
    window = 2 * half
    # the package conv uses (real, -imag) kernels; the sign does not change |.|
    cropped = kernels[:, centre - half:centre + half] * np.sqrt(lengths)[:, None]
    basis = np.concatenate([cropped.real, -cropped.imag], axis=0).T.astype(np.float32)
    state = ckpt["state_dict"]
    shift_bins = round(float(state["shift"]) * bps)
    crop_lo, crop_hi = int(hp["pitch_shift"]["max_steps"]), int(hp["pitch_shift"]["min_steps"])
    slope = float(enc["a_lrelu"])

    class PestoEncoder(nn.Module):
        """PESTO's frequency-axis network: one CQT frame [N, 1, F] to pitch softmax."""

        def __init__(self) -> None:
            super().__init__()
            ch, k, n_in = list(enc["n_chan_layers"]), int(enc["prefilt_kernel_size"]), \
                int(enc["n_bins_in"])
            self.layernorm = nn.LayerNorm([int(enc["n_chan_input"]), n_in])
            self.conv1 = nn.Sequential(nn.Conv1d(1, ch[0], k, padding=k // 2))
            self.prefilt_layers = nn.ModuleList(
                nn.Sequential(nn.Conv1d(ch[0], ch[0], k, padding=k // 2))
                for _ in range(int(enc["n_prefilt_layers"]) - 1))
            # indices 0, 3, 6, .. match the package's (conv, activation, dropout) triples
            layers: list[nn.Module] = []
            for i in range(len(ch) - 1):
                layers += [nn.Conv1d(ch[i], ch[i + 1], 1), nn.Identity(), nn.Identity()]
            self.conv_layers = nn.Sequential(*layers)
            out = int(enc["output_dim"])
            self.fc = nn.Conv1d(1, 1, n_in * ch[-1] + out - 1, padding=out - 1, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.leaky_relu(self.conv1(self.layernorm(x)), slope)
            for layer in self.prefilt_layers:
                x = F.leaky_relu(layer(x), slope) + x
            for conv in self.conv_layers[::3]:
                x = F.leaky_relu(conv(x), slope)
            return torch.softmax(self.fc(x.flatten(1)[:, None])[:, 0], dim=-1)

    class Confidence(nn.Module):
        """PESTO's voicing classifier on the CQT power spectrum."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv1d(1, 1, 39, stride=3)
            self.linear = nn.Linear(72, 1)

        def forward(self, energy: torch.Tensor) -> torch.Tensor:
            geometric = energy.log().mean(dim=-1, keepdim=True).exp()
            flatness = geometric / energy.mean(dim=-1, keepdim=True).clamp(min=1e-8)
            x = F.relu(self.conv(energy[:, None])[:, 0])
            return torch.sigmoid(self.linear(torch.cat((x, flatness), dim=-1)))[:, 0]

    class PestoF0(nn.Module):
        """Raw [N, W] windows to (f0_hz, confidence), real-valued throughout."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = PestoEncoder()
            self.confidence = Confidence()
            self.register_buffer("basis", torch.from_numpy(basis))
            n_out = int(enc["output_dim"])
            self.register_buffer("roll", (torch.arange(n_out) + shift_bins) % n_out)
            self.register_buffer("pitches", torch.arange(n_out, dtype=torch.float32) / bps)
            self.register_buffer("offsets", torch.arange(1, 2 * bps) - bps)
            self.n_bins = basis.shape[1] // 2
            self.n_out = n_out
            self.eps = float(torch.finfo(torch.float32).eps)

        def forward(self, audio_frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            spec = audio_frames @ self.basis
            re, im = spec[:, :self.n_bins], spec[:, self.n_bins:]
            db = 20.0 * torch.log10(torch.sqrt(re * re + im * im).clamp(min=self.eps))
            # the package scales dB in place before both the energy and the encoder input
            x = db * (math.log(10) / 10.0)
            confidence = self.confidence(torch.exp(x))
            act = self.encoder(x[:, None, crop_lo:x.shape[-1] + crop_hi])
            act = act[:, self.roll]
            # argmax-local weighted average over +-(bps-1) bins, indices clipped at edges
            idx = (act.argmax(dim=-1, keepdim=True) + self.offsets).clamp(0, self.n_out - 1)
            local = act.gather(-1, idx)
            semitones = (local * self.pitches[idx]).sum(-1) / local.sum(-1)
            return 440.0 * torch.exp((semitones - 69.0) * (math.log(2.0) / 12.0)), confidence

    graph = PestoF0()
    own = {k: v for k, v in state.items() if k.startswith(("encoder.", "confidence."))}
    missing, unexpected = graph.load_state_dict(own, strict=False)
    if unexpected or [m for m in missing if m not in ("basis", "roll", "pitches", "offsets")]:
        raise RecipeError(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    return graph.eval(), window


def package_reference(cache: Path, ckpt_path: Path, audio: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """f0 and confidence from pesto's own ``PESTO`` model over the whole signal."""
    import logging

    import torch

    root = unpack_wheel(WEIGHTS.package, WEIGHTS.version, cache, (WEIGHTS.member,))
    mods = import_submodules(root, "pesto", ["loader"])
    logging.getLogger(mods["loader"].__name__).setLevel(logging.ERROR)
    model = mods["loader"].load_model(str(ckpt_path), step_size=1000.0 * HOP / SAMPLE_RATE,
                                      sampling_rate=SAMPLE_RATE)
    with torch.inference_mode():
        f0, conf, _vol, _act = model(torch.from_numpy(audio), sr=SAMPLE_RATE,
                                     convert_to_freq=True, return_activations=True)
    return f0.numpy(), conf.numpy()


def run_check(onnx_path: Path, ckpt_path: Path, cache: Path) -> int:
    """Parity and accuracy checks; prints a report and returns an exit code."""
    import torch

    graph, window = build_graph(load_checkpoint(ckpt_path))
    signal = synthetic_audio.make_test_signal()
    # the package reflect-pads by half its 4096-tap kernel; pad the same way
    frames = synthetic_audio.frame_audio(signal.audio, window, HOP, pad_mode="reflect",
                                         pad=2048)
    truth, unvoiced = synthetic_audio.frame_truth(signal, HOP, window // 4)

    f0_onnx, conf_onnx = onnx_contract.run_onnx(onnx_path, frames)
    with torch.no_grad():
        f0_torch, conf_torch = (t.numpy() for t in graph(torch.from_numpy(frames)))
    f0_pkg, conf_pkg = package_reference(cache, ckpt_path, signal.audio)
    if len(f0_pkg) != len(frames):
        print(f"FAIL: package gave {len(f0_pkg)} frames, recipe framing {len(frames)}")
        return 1
    # PESTO's softmax peaks are well separated even on noise, so every frame's f0 counts
    results = [
        onnx_contract.compare("onnx vs torch re-implementation", f0_onnx, conf_onnx,
                              f0_torch, conf_torch),
        onnx_contract.compare("onnx vs pesto package PESTO model", f0_onnx, conf_onnx,
                              f0_pkg, conf_pkg),
    ]
    print(f"frames: {len(frames)} x {window} (hop {HOP})")
    for result in results:
        print(result.line())
    voiced = truth > 0
    err = synthetic_audio.cents_between(f0_onnx[voiced], truth[voiced])
    print(f"accuracy on {voiced.sum()} voiced frames: median {np.median(err):.2f} cents, "
          f"p95 {np.percentile(err, 95):.2f}, within 50 cents {np.mean(err < 50):.3f}")
    print(f"confidence: voiced median {np.median(conf_onnx[voiced]):.3f}, "
          f"unvoiced median {np.median(conf_onnx[unvoiced]):.3f} "
          f"max {conf_onnx[unvoiced].max():.3f} over {unvoiced.sum()} frames")
    failed = [r for r in results if not r.ok(CENTS_TOL, CONF_TOL)]
    if failed:
        print(f"FAIL: beyond tolerance ({CENTS_TOL} cents, {CONF_TOL} confidence): "
              + "; ".join(r.label for r in failed))
        return 1
    print("parity OK")
    return 0


RECIPE = recipe_cli.Recipe(
    model_id=MODEL_ID,
    name="PESTO (mir-1k_g7)",
    description="PESTO monophonic f0: CQT (3 bins per semitone) and a small frequency-axis "
                "network per frame, with its voicing classifier; 2126-sample windows at 16 kHz.",
    license="LGPL-3.0",
    script="models/recipes/export_pesto.py",
    weights=WEIGHTS,
    hop=HOP,
    build=lambda weights: build_graph(load_checkpoint(weights)),
    check=run_check,
)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see recipe_cli); returns the exit code."""
    return recipe_cli.main(RECIPE, argv)


if __name__ == "__main__":
    sys.exit(main())
