"""The critic's convolutions in 8-bit integers (``precision="int8"``): for CPUs without native bf16.

Same layers as :class:`dd_live.learn.folded.Folded` (batch norms folded in, the first convolution
space-to-depth), run through PyTorch's quantized CPU kernels (the ``x86`` engine: fbgemm and oneDNN, VNNI
where the CPU has it; ``qnnpack`` on ARM): weights int8 per output channel, activations uint8 per tensor, each
layer's leaky ReLU on its quantized output. The input's standardisation and the dense layer stay float32.

Activation ranges come from the weights alone, not from the loops a session happens to score first: each
layer's range is what its float32 function gives for :data:`CALIBRATION` bars of Gaussian MFCCs drawn
around the critic's own input statistics (a fixed seed), widened by :data:`MARGIN`. So every copy of one
critic (the trainer's, the generator's) quantizes alike, and an item's embedding never depends on its batch
(fixed scales, integer arithmetic, the dense layer summed item by item). Scores rank loops as float32's do:
see ``tests/learn/test_quantized.py`` (Spearman >= 0.99 on 1,000 rendered loops).

PyTorch 2.13 marks its quantized tensors deprecated (pytorch issue 184982); that warning is kept out of the
daemon's log, and a torch without them makes :meth:`dd_live.learn.critic.Critic.folded` fall back to float32.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .folded import SLOPE, Folded

CALIBRATION = 64        # Gaussian bars each layer's range is measured on ...
CHUNK = 4               # ... this many at a time (its float32 activations stay in the heap malloc keeps)
MARGIN = 1.2            # ... and widened by (values beyond saturate)
SEED = 0                # the calibration draw's

# torch 2.13's deprecation of quantized tensors, said once per process, is not the performer's concern
# (filters are the process's: set here once, not around each call, which would race between threads)
warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*", category=UserWarning)


def engine() -> str | None:
    """The quantized engine this torch runs here (x86, fbgemm or qnnpack), None if none."""
    try:
        engines = torch.backends.quantized.supported_engines
    except (AttributeError, RuntimeError):
        return None
    return next((e for e in ("x86", "fbgemm", "qnnpack") if e in engines), None)


def _qparams(lo: float, hi: float) -> tuple[float, int]:
    """uint8 scale and zero point of the range [lo, hi] (widened to hold 0)."""
    lo, hi = min(lo * MARGIN, 0.0), max(hi * MARGIN, 0.0)
    scale = (hi - lo) / 255 or 1e-8
    return scale, min(max(int(round(-lo / scale)), 0), 255)


class Quantized(Folded):
    """A :class:`Folded` critic whose convolutions run in int8 (see the module docstring)."""

    def __init__(self, critic) -> None:
        import torch.ao.nn.quantized as nnq

        name = engine()
        if name is None:
            raise RuntimeError("this torch has no quantized CPU engine")
        if torch.backends.quantized.engine != name:
            torch.backends.quantized.engine = name
        super().__init__(critic, torch.float32)
        with torch.no_grad():
            gen = torch.Generator().manual_seed(SEED)
            rows, frames = critic.input_shape
            lo = [float("inf")] * (len(self.layers) + 1)      # the input's range, then each layer's output's
            hi = [-float("inf")] * (len(self.layers) + 1)
            for _ in range(CALIBRATION // CHUNK):             # in chunks: a first layer's output of 16 bars is 13 MB
                h = self._input(torch.randn(CHUNK, rows, frames, generator=gen) * critic.in_std + critic.in_mean)
                for k in range(len(self.layers) + 1):
                    if k:
                        h = self.layers[k - 1](h)
                    lo[k], hi[k] = min(lo[k], float(h.min())), max(hi[k], float(h.max()))
            self.q_in = _qparams(lo[0], hi[0])
            self.qconvs = []
            for k, layer in enumerate(self.layers, start=1):
                w = layer.weight.float().contiguous()
                scales = (w.abs().amax(dim=(1, 2, 3)) / 127).clamp(min=1e-12).double()
                wq = torch.quantize_per_channel(w, scales, torch.zeros(w.shape[0], dtype=torch.long), 0, torch.qint8)
                conv = nnq.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), tuple(layer.stride))
                conv.set_weight_bias(wq, layer.bias.float())
                conv.scale, conv.zero_point = _qparams(lo[k], hi[k])
                self.qconvs.append(conv)

    def embed(self, feats: torch.Tensor) -> torch.Tensor:
        """The dense layer's output (batch, dense), float32, as :meth:`Folded.embed` gives it, the convolutions
        in int8."""
        h = torch.quantize_per_tensor(self._input(feats), *self.q_in, torch.quint8)
        for conv in self.qconvs:
            h = nn.functional.leaky_relu(conv(h), SLOPE)
        return self._dense(h.dequantize())
