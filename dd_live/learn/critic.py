"""The critic: DeepDrummer's small CNN over MFCCs, f(x) = P(like | loop audio).

Architecture (the paper's, 291,290 parameters for one bar of 442 frames):
three 2-D convolutions with 64 channels, kernel (4, 8), stride (2, 4), then a
1x1 convolution to 8 channels, each followed by leaky ReLU, batch norm and
dropout; a dense layer of 128 units (leaky ReLU, dropout); two outputs and a
log-softmax. Output 1 is "like".

Scoring is batched and runs in eval mode. Precision ``auto`` (the default, see
:func:`set_precision`) runs convolutions
in bfloat16 autocast where the CPU has native bf16 (AVX-512 BF16 / AMX), about
twice as fast as float32 there, and in float32 elsewhere; scores differ by about
1e-3 between the two. The number of torch threads is a setting
(:func:`configure_threads`): beside a DAW, dd_live must not take every core.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from .. import PRECISIONS
from ..errors import InputError
from ..loops.render import REFERENCE_BPM, bar_length
from .features import N_MFCC, frames_for
from . import quantized
from .folded import Folded, version_key

log = logging.getLogger(__name__)

BAR_SAMPLES = bar_length(REFERENCE_BPM, 4)  # one bar of 4/4 at the reference 120 bpm: 88,200
BAR_FRAMES = frames_for(BAR_SAMPLES)
DROPOUT = 0.167
SCORE_CHUNK = 16          # items per forward pass when scoring: the first layer's output of 16 bars (13 MB in
                          # fp32) stays in the heap malloc keeps, one a scoring thread; as fast as 32 on one
                          # thread, 64 was 1.5x slower in fp32 (2 cores); bench live's peak RSS 567-578 -> 560 MB


def configure_threads(threads: int) -> None:
    """Use at most ``threads`` CPU threads for torch work, and keep freed memory (process-wide)."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)
    keep_freed_memory()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8  # glibc's mallopt parameters
ARENAS = 2                 # glibc malloc arenas at most: each thread's arena kept its own freed memory


@functools.cache
def _libc():
    """glibc, or None where the C library is another (looked up once)."""
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks of up to 32 MB instead of unmapping them, in at most
    :data:`ARENAS` arenas.

    torch allocates every activation and MFCC intermediate afresh. By default glibc
    maps such blocks anew on each call and returns them to the OS when freed, and the
    page faults of touching them again cost as much as the arithmetic. Blocks up to
    32 MB (glibc's limit for this setting) now come from the heap, which keeps up to
    256 MB free before trimming (:func:`release_memory` gives it back when a worker rests). Returns False,
    changing nothing, where the C library is not glibc.
    """
    libc = _libc()
    if libc is None:
        return False
    try:
        return (bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20))
                and bool(libc.mallopt(_M_ARENA_MAX, ARENAS)))
    except AttributeError:
        return False


def release_memory() -> bool:
    """Give the free memory of every malloc arena back to the system (glibc's ``malloc_trim``): what a
    worker calls when it rests, so a burst's buffers do not stay resident while nothing runs. A few ms."""
    libc = _libc()
    try:
        return libc is not None and bool(libc.malloc_trim(0))
    except AttributeError:
        return False


def bf16_available() -> bool:
    """True when the CPU runs bfloat16 convolutions natively."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


_PRECISION = [os.environ.get("DD_LIVE_PRECISION") or "auto"]   # the process's default (set_precision)


def set_precision(precision: str) -> str:
    """Make ``precision`` (one of :data:`dd_live.PRECISIONS`) the default of every critic this process makes from
    now on (``serve --precision``, ``bench --precision``); returns what it resolves to here."""
    resolved = resolve_precision(precision)
    _PRECISION[0] = precision
    return resolved


def resolve_precision(precision: str | None = None) -> str:
    """"fp32", "bf16" or "int8": ``precision`` (None: the process's default, see :func:`set_precision`; else
    ``$DD_LIVE_PRECISION``, else "auto") as this CPU runs it. InputError for anything not in PRECISIONS."""
    where = "$DD_LIVE_PRECISION" if precision is None and _PRECISION[0] == os.environ.get("DD_LIVE_PRECISION") \
        else "precision"
    precision = _PRECISION[0] if precision is None else precision
    if precision not in PRECISIONS:
        raise InputError(f"{where} must be {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        return "bf16" if bf16_available() else "int8" if quantized.engine() is not None else "fp32"
    if precision == "int8" and quantized.engine() is None:
        log.warning("int8: this torch has no quantized CPU engine; the critic computes in fp32")
        return "fp32"
    return precision


@contextlib.contextmanager
def autocast(precision: str) -> Iterator[None]:
    """bfloat16 autocast on the CPU for "bf16", nothing for "fp32"."""
    if precision == "bf16":
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield
    else:
        yield


class Dropout(nn.Module):
    """Inverted dropout whose mask comes from numpy's PCG64 when ``generator`` is set.

    torch's CPU Bernoulli sampling runs at about 3 ns per element on one thread,
    a large part of a training step (the first layer has 3.2 M activations per
    minibatch of 16). Raw PCG64 output read as 16-bit words and compared against
    a threshold gives the same Bernoulli(1 - p) mask (p resolved to 1/65536) in a
    fraction of the time.
    The trainer sets ``generator`` (seeded) while it trains; without one this is
    torch's dropout.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {p}")
        self.p = p
        self.threshold = int(round(p * 65536))
        self.generator: np.random.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.generator is None:
            return nn.functional.dropout(x, self.p, True)
        n = x.numel()
        bits = self.generator.bit_generator.random_raw(n // 4 + 1).view(np.uint16)[:n]
        keep = torch.from_numpy(bits >= self.threshold)
        if x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last):
            b, c, h, w = x.shape  # build the mask in the same physical (NHWC) order as x
            keep = keep.view(b, h, w, c).permute(0, 3, 1, 2)
        else:
            keep = keep.view(x.shape)
        mask = keep.to(x.dtype)  # a float mask: multiplying by a bool tensor is 15x slower
        mask.mul_(1.0 / (1.0 - self.threshold / 65536))
        return x * mask


def _block(cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int], dropout: float) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride), nn.LeakyReLU(0.01), nn.BatchNorm2d(cout), Dropout(dropout)]


def _out_size(n: int, k: int, s: int) -> int:
    return (n - k) // s + 1


class Critic(nn.Module):
    """DeepDrummer's critic. Input (batch, 60, frames) MFCCs; output (batch, 2) log-probabilities."""

    def __init__(self, *, n_mfcc: int = N_MFCC, frames: int = BAR_FRAMES, channels: tuple[int, ...] = (64, 64, 64),
                 bottleneck: int = 8, kernel: tuple[int, int] = (4, 8), stride: tuple[int, int] = (2, 4),
                 dense: int = 128, dropout: float = DROPOUT, precision: str | None = None) -> None:
        """``precision``: see :func:`resolve_precision` (None: the process's default)."""
        super().__init__()
        self.head_posterior = None  # the output layer's Laplace posterior, set by a head fit (learn/policy.py)
        self.rated_cells = None  # the grid cells' terms beside it, from the same ratings (policy.fit_cells)
        layers: list[nn.Module] = []
        cin, h, w = 1, n_mfcc, frames
        for c in channels:
            layers += _block(cin, c, kernel, stride, dropout)
            cin, h, w = c, _out_size(h, kernel[0], stride[0]), _out_size(w, kernel[1], stride[1])
        if h < 1 or w < 1:
            raise ValueError(f"input of {n_mfcc} x {frames} is too small for this critic")
        layers += _block(cin, bottleneck, (1, 1), (1, 1), dropout)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(bottleneck * h * w, dense), nn.LeakyReLU(0.01),
                                  Dropout(dropout), nn.Linear(dense, 2), nn.LogSoftmax(dim=-1))
        self.input_shape = (n_mfcc, frames)
        # Fixed per-coefficient input scaling (buffers, not parameters): raw MFCC 0 spans hundreds of
        # units and the others tens, which the paper's small learning rate is slow to absorb.
        self.register_buffer("in_mean", torch.zeros(n_mfcc, 1))
        self.register_buffer("in_std", torch.ones(n_mfcc, 1))
        self.precision = resolve_precision(precision)
        self.to(memory_format=torch.channels_last)
        self.eval()  # scoring is the common use; the trainer switches to train mode while it trains

    def set_dropout_generator(self, generator: np.random.Generator | None) -> None:
        """Draw dropout masks from ``generator`` (None: torch's own dropout)."""
        for m in self.modules():
            if isinstance(m, Dropout):
                m.generator = generator

    def set_input_stats(self, feats: torch.Tensor) -> None:
        """Standardise inputs with the mean and spread of each coefficient over ``feats`` (batch, 60, frames),
        e.g. MFCCs of random loops from the session's library. Call before training starts."""
        mean = feats.mean(dim=(0, 2))[:, None]
        std = feats.std(dim=(0, 2))[:, None].clamp(min=1e-3)
        self.in_mean.copy_(mean)
        self.in_std.copy_(std)

    def folded(self) -> Folded:
        """The eval-mode layers up to the dense layer's output as :class:`dd_live.learn.folded.Folded` (batch
        norms folded in, leaky ReLUs fused), made again whenever a weight or statistic has changed."""
        key = version_key(self)
        folded = self.__dict__.get("_folded")
        if self.__dict__.get("_folded_key") != key:        # two threads may both make it: the same function
            folded = None
            if self.precision == "int8":
                try:
                    folded = quantized.Quantized(self)
                except (RuntimeError, AttributeError, NotImplementedError) as err:   # no quantized kernels
                    log.warning("int8 scoring unavailable (%s); the critic computes in fp32", err)
            if folded is None:
                folded = Folded(self, torch.bfloat16 if self.precision == "bf16" else torch.float32)
            self.__dict__["_folded"], self.__dict__["_folded_key"] = folded, key
        return folded

    def _log_p(self, feats: torch.Tensor) -> torch.Tensor:
        """Eval mode's log-probabilities (batch, 2) through the folded layers, whatever the module's mode."""
        h = self.folded().embed(feats)
        return self.head[-1](self.head[-2](h.float()))

    def _check(self, feats: torch.Tensor) -> None:
        if feats.ndim != 3 or tuple(feats.shape[1:]) != self.input_shape:
            raise ValueError(f"critic expects (batch, {self.input_shape[0]}, {self.input_shape[1]}), got {tuple(feats.shape)}")

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        self._check(feats)
        if not self.training and not torch.is_grad_enabled():     # scoring: the folded path, the same function
            return self._log_p(feats)
        x = ((feats - self.in_mean) / self.in_std)[:, None].contiguous(memory_format=torch.channels_last)
        with autocast(self.precision):
            h = self.features(x)
            for layer in list(self.head)[:-2]:
                h = layer(h)
        # the output layer and its log-softmax in float32 always: in bfloat16 (8 significant bits) scores
        # near 0.5 come out in steps of about 0.002 and close loops tie
        return self.head[-1](self.head[-2](h.float()))

    @torch.no_grad()
    def embed(self, feats: torch.Tensor) -> torch.Tensor:
        """The dense layer's output (batch, 128), float32, in eval mode whatever the module's mode (the folded
        layers are eval mode's function; nothing is switched, so several threads may use one critic at once):
        what the output layer weighs."""
        self._check(feats)
        fast = self.folded()
        return torch.cat([fast.embed(feats[i: i + SCORE_CHUNK]) for i in range(0, feats.shape[0], SCORE_CHUNK)])

    def output(self) -> nn.Linear:
        """The output layer (dense -> like/dislike logits)."""
        return self.head[-2]

    def output_name(self) -> str:
        """The output layer's state-dict prefix (e.g. "head.4")."""
        return next(name for name, m in self.named_modules() if m is self.output())

    @torch.inference_mode()
    def score(self, feats: torch.Tensor) -> torch.Tensor:
        """P(like) in [0, 1] for each item, float32 (batch,), in eval mode whatever the module's mode (nothing is
        switched: several threads may score with one critic at once, and a training module stays as it was)."""
        self._check(feats)
        chunks = range(0, feats.shape[0], SCORE_CHUNK)
        return torch.cat([self._log_p(feats[i: i + SCORE_CHUNK])[:, 1] for i in chunks]).exp()


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class Ensemble:
    """Mean score of several critics (for best/worst search across sessions)."""

    def __init__(self, critics: list[Critic]) -> None:
        if not critics:
            raise ValueError("an ensemble needs at least one critic")
        self.critics = critics

    def score(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.stack([c.score(feats) for c in self.critics]).mean(0)
