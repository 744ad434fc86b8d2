"""MFCC features, computed with torch alone, batched.

``mfcc(audio)`` takes float audio (batch, samples) at 44.1 kHz and returns
(batch, 60, frames), with the settings torchaudio.transforms.MFCC(sample_rate=44100,
n_mfcc=60) uses by default:

* STFT: n_fft 400, hop 200, periodic Hann window, centred with reflect padding,
  power spectrum (|X|^2);
* 128 triangular mel bands on the HTK scale from 0 Hz to Nyquist, no normalisation
  (with 201 FFT bins some of the lowest bands are empty, as in torchaudio);
* dB: 10 log10(max(power, 1e-10)), floored at 80 dB below the item's maximum
  (per item, as torchaudio does when it is given one item at a time);
* DCT-II with orthonormal scaling, first 60 coefficients.

(DeepDrummer's own code left torchaudio's default 16 kHz sample rate in place
while feeding 44.1 kHz audio, which squeezes the mel bands; dd_live uses the
true rate.) One bar at 120 bpm (88,200 samples) gives 442 frames.
"""

from __future__ import annotations

import math

import torch

from .. import SAMPLE_RATE
from ..spares import Spares

N_FFT = 400
HOP = 200
N_MELS = 128
N_MFCC = 60
AMIN = 1e-10
TOP_DB = 80.0
CHUNK = 4               # items analysed at once: a work set of 4 bars is 4 MB; 8 were as fast (alternating,
                        # 2 cores, fp32 and bf16) and bench live's peak RSS 10-15 MB higher


def frames_for(samples: int) -> int:
    """Number of MFCC frames for a buffer of ``samples`` samples."""
    return samples // HOP + 1


def inner_frames(samples: int) -> int:
    """The last frame wholly inside a ``samples``-long signal (frames 1 to it read no reflect padding; frames are
    centred, N_FFT long, HOP apart)."""
    return (samples - N_FFT // 2) // HOP


def hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(*, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS,
                   f_min: float = 0.0, f_max: float | None = None) -> torch.Tensor:
    """Triangular HTK mel filters, (n_fft // 2 + 1, n_mels), unnormalised, float64."""
    f_max = sample_rate / 2 if f_max is None else f_max
    freqs = torch.linspace(0, sample_rate // 2, n_fft // 2 + 1, dtype=torch.float64)
    m = torch.linspace(float(hz_to_mel(torch.tensor(f_min, dtype=torch.float64))),
                       float(hz_to_mel(torch.tensor(f_max, dtype=torch.float64))), n_mels + 2, dtype=torch.float64)
    f = mel_to_hz(m)
    width = f[1:] - f[:-1]
    slopes = f[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / width[:-1]
    up = slopes[:, 2:] / width[1:]
    return torch.clamp(torch.minimum(down, up), min=0.0)


def dct_matrix(n_mfcc: int = N_MFCC, n_mels: int = N_MELS) -> torch.Tensor:
    """Orthonormal DCT-II basis, (n_mels, n_mfcc), float64."""
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi / n_mels * (n + 0.5) * k) * math.sqrt(2.0 / n_mels)
    basis[0] /= math.sqrt(2.0)
    return basis.t().contiguous()


SPARES: Spares[dict] = Spares()   # the process's MFCC work sets no chunk is using (see MFCC._take)


class MFCC:
    """Batched MFCC extractor; holds its window, filterbank and DCT (float32) for reuse.

    The computation is the one described in the module docstring, arranged for
    speed on a CPU: the frames inside the audio are cut from it with ``unfold`` and
    windowed into one buffer (only the first and the last, which reach
    into the reflect padding, are gathered through an index), so the padded signal
    is never copied; ``rfft`` gives them frame-major and contiguous; the power is
    the squares of the real and imaginary parts, in place, summed inside the mel
    product (each filter row twice, once for each part); the mostly-zero mel
    matrix is applied as 8 dense products, each over the FFT bins its 16 bands touch,
    written into those bands' columns of one (frames, 128) buffer; and the DCT is one
    batched product that writes each item's MFCCs (60, frames) where they are returned
    (no transposing copy: 5-13% less time than a product per group and a copy, one thread).

    Intermediates go into sets of work buffers, each sized for CHUNK items of one
    length: fresh tensors of this size are mapped anew by the allocator on each call,
    and their page faults cost as much as the arithmetic. A chunk takes a free set and
    gives it back, and the sets are the process's, shared by every instance: it keeps
    as many as chunks ever ran at once, not one for every thread and instance that ever
    computed (a daemon's two work threads, its generator and its trainer kept four).
    One instance may be shared by several threads.
    """

    def __init__(self) -> None:
        self.window = torch.hann_window(N_FFT, periodic=True, dtype=torch.float32)
        self.fb = mel_filterbank().to(torch.float32)
        self.dct = dct_matrix().t().contiguous().to(torch.float32)   # (60, mels): an item's (60, frames) in one product
        # (band slice, first bin, end bin, filters over (re, im) of those bins); every band is in a group (one
        # whose filters are all empty reads no bins and writes zeros, as torchaudio's empty bands are)
        self.groups = []
        for b0 in range(0, N_MELS, 16):
            bands = slice(b0, min(b0 + 16, N_MELS))
            rows = torch.nonzero(self.fb[:, bands].any(dim=1)).flatten()
            lo, hi = (int(rows.min()), int(rows.max()) + 1) if rows.numel() else (0, 0)
            self.groups.append((bands, lo, hi, self.fb[lo:hi, bands].repeat_interleave(2, dim=0).contiguous()))

    def _take(self, samples: int) -> dict:
        """A set of work buffers for CHUNK items of ``samples`` samples, no other chunk's until it is given back to
        :data:`SPARES`: a free one, else a new one (a free set made for another length is dropped for it)."""
        f, c = frames_for(samples), CHUNK
        return SPARES.take(lambda work: work["samples"] == samples, lambda: {
            "samples": samples,
            "edges": edge_frames(samples),   # (frame numbers, their sample indices into the unpadded audio)
            "frames": torch.empty(c, f, N_FFT),
            "mel": torch.empty(c * f, N_MELS),
        })

    def _chunk(self, x: torch.Tensor, out: torch.Tensor) -> None:
        """MFCCs of ``x`` (n <= CHUNK, samples) float32 into ``out`` (n, 60, frames)."""
        work = self._take(x.shape[1])
        try:
            self._compute(x, out, work)
        finally:
            SPARES.give(work)

    def _compute(self, x: torch.Tensor, out: torch.Tensor, work: dict) -> None:
        n, length = x.shape
        f = frames_for(length)   # a chunk smaller than CHUNK uses the first rows of the work set's buffers
        frames = work["frames"][:n]
        inner = inner_frames(length)
        if inner:
            torch.mul(x.unfold(1, N_FFT, HOP)[:, :inner], self.window, out=frames[:, 1: inner + 1])
        which, index = work["edges"]
        frames[:, which] = x[:, index] * self.window
        spec = torch.fft.rfft(frames, dim=-1)   # a fresh tensor: rfft's ``out=`` costs a copy of its own
        power = torch.view_as_real(spec).view(-1, 2 * (N_FFT // 2 + 1)).square_()   # (re^2, im^2) per bin
        mel = work["mel"][:n * f]
        for bands, lo, hi, fb in self.groups:         # each group's bands into their columns
            torch.mm(power[:, 2 * lo: 2 * hi], fb, out=mel[:, bands])
        db = mel.clamp_(min=AMIN).log10_().mul_(10.0).view(n, -1)
        floor = db.amax(dim=1) - TOP_DB  # per item
        torch.maximum(db, floor[:, None], out=db)
        torch.matmul(self.dct, mel.view(n, f, N_MELS).transpose(1, 2), out=out)   # (60, mels) x (mels, frames)

    def __call__(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, samples) float audio at 44.1 kHz -> (batch, 60, frames) float32.

        Works through the batch CHUNK items at a time: small intermediates stay in
        cache and reuse the allocator's memory (a 256-bar STFT at once is 2x slower).
        """
        x = _as_batch(audio)
        out = torch.empty(x.shape[0], N_MFCC, frames_for(x.shape[1]), dtype=torch.float32)
        for i in range(0, x.shape[0], CHUNK):
            self._chunk(x[i: i + CHUNK], out[i: i + CHUNK])
        return out


def edge_frames(samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The frames of a ``samples``-long signal that reach into its reflect padding (the first and the last), and
    the sample indices (frames, N_FFT) each of them reads from the unpadded signal."""
    which = torch.tensor([0, *range(inner_frames(samples) + 1, frames_for(samples))])
    index = which[:, None] * HOP - N_FFT // 2 + torch.arange(N_FFT)[None, :]
    index = index.abs()                                            # before the start: x[-i] is x[i]
    index = torch.where(index >= samples, 2 * (samples - 1) - index, index)   # after the end: mirrored
    return which, index


def _as_batch(audio: torch.Tensor) -> torch.Tensor:
    if not isinstance(audio, torch.Tensor):
        raise TypeError(f"audio must be a torch tensor, not {type(audio).__name__}")
    if audio.ndim == 1:
        audio = audio[None]
    if audio.ndim != 2:
        raise ValueError(f"audio must be (batch, samples), got shape {tuple(audio.shape)}")
    if audio.shape[1] <= N_FFT // 2:
        raise ValueError(f"audio is too short for MFCCs ({audio.shape[1]} samples)")
    return audio.to(torch.float32)


_DEFAULT: MFCC | None = None


def mfcc(audio: torch.Tensor) -> torch.Tensor:
    """MFCCs (batch, 60, frames) of float audio (batch, samples) at 44.1 kHz."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MFCC()
    return _DEFAULT(audio)
