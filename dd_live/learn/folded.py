"""The critic's inference path: the same function as its eval-mode forward, in fewer passes over memory.

Profiled on 2 cores (fp32, batch 64): the convolutions took 57% of the critic's time, the batch norms 21% and
the leaky ReLUs 20%, nearly all of those two on the first layer's output (64 x 29 x 109 values a bar, 52 MB a
batch), each a pass over memory of its own. Here, in eval mode:

* each batch norm (an affine map per channel, after the leaky ReLU) is folded into the layer after it: the next
  convolution's weights are scaled per input channel and its bias takes the shift (exact: the convolutions have
  no padding), the last into the dense layer;
* each leaky ReLU runs inside its convolution as a oneDNN post-op (``mkldnn._convolution_pointwise``, what
  PyTorch's own compiler emits for CPUs), or in place where this torch lacks the op;
* the first convolution (one input channel, kernel (4, 8), stride (2, 4): a poor shape for oneDNN) is computed
  as the equal convolution over the input rearranged space-to-depth: 8 channels, kernel (2, 2), stride 1, on the
  rows and columns it reads.

Dropout is the identity in eval mode. In bf16 the convolutions' weights are converted once; the dense layer
is float32. :class:`Folded` is rebuilt when any
of the critic's weights or statistics change (their tensors' version counters), so a critic that trains stays
exact.
"""

from __future__ import annotations

import torch
from torch import nn

SLOPE = 0.01            # the critic's leaky ReLU slope


def _pointwise():
    """oneDNN's convolution with a fused post-op, where this torch has it (None otherwise)."""
    try:
        return torch.ops.mkldnn._convolution_pointwise
    except (AttributeError, RuntimeError):
        return None


_FUSED = _pointwise()


def _affine(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch norm in eval mode as y = a x + c per channel."""
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return a, bn.bias - a * bn.running_mean


class _Conv:
    """One convolution with its leaky ReLU: weights (channels-last), bias, stride; ``s2d`` the space-to-depth
    block (sh, sw) its input is rearranged by, or None."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, stride: tuple[int, int],
                 s2d: tuple[int, int] | None, dtype: torch.dtype) -> None:
        self.weight = weight.to(dtype).contiguous(memory_format=torch.channels_last)
        self.bias = bias.to(dtype).contiguous()
        self.stride, self.s2d = list(stride), s2d

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if _FUSED is not None:
            try:
                return _FUSED(x, self.weight, self.bias, [0, 0], self.stride, [1, 1], 1, "leaky_relu", [SLOPE], "")
            except RuntimeError:           # a build whose oneDNN refuses this shape: the plain way
                pass
        return nn.functional.leaky_relu_(nn.functional.conv2d(x, self.weight, self.bias, self.stride), SLOPE)


def _space_to_depth(conv: nn.Conv2d) -> tuple[torch.Tensor, tuple[int, int]] | None:
    """The first convolution's weights for its input rearranged in blocks of its stride, if its kernel is a
    whole number of strides in both directions (else None)."""
    (kh, kw), (sh, sw) = conv.kernel_size, conv.stride
    if conv.in_channels != 1 or kh % sh or kw % sw or conv.padding != (0, 0) or conv.dilation != (1, 1):
        return None
    w = conv.weight.reshape(conv.out_channels, kh // sh, sh, kw // sw, sw)       # (o, a, dh, b, dw)
    return w.permute(0, 2, 4, 1, 3).reshape(conv.out_channels, sh * sw, kh // sh, kw // sw), (sh, sw)


class Folded:
    """The eval-mode function of ``critic``'s layers up to the dense layer's leaky ReLU (what ``embed`` gives),
    computed by ``dtype`` convolutions as described in the module's docstring."""

    def __init__(self, critic, dtype: torch.dtype = torch.float32) -> None:
        with torch.no_grad():
            mods = list(critic.features)
            convs = [m for m in mods if isinstance(m, nn.Conv2d)]
            bns = [m for m in mods if isinstance(m, nn.BatchNorm2d)]
            if len(convs) != len(bns) or not convs:
                raise ValueError("a critic of conv, leaky ReLU, batch norm blocks is folded, not this one")
            self.layers: list[_Conv] = []
            prev = None                                  # the batch norm before this layer, as (a, c)
            for conv, bn in zip(convs, bns):
                w, b = conv.weight, conv.bias
                if prev is not None:
                    a, c = prev
                    b = b + (w * c[None, :, None, None]).sum((1, 2, 3))
                    w = w * a[None, :, None, None]
                s2d = _space_to_depth(conv) if prev is None else None
                if s2d is not None:
                    self.layers.append(_Conv(s2d[0], b, (1, 1), s2d[1], dtype))
                else:
                    self.layers.append(_Conv(w, b, conv.stride, None, dtype))
                prev = _affine(bn)
            dense = critic.head[1]
            a, c = prev
            per = dense.in_features // a.numel()         # flattened (channels, rows, columns): a per channel
            a, c = a.repeat_interleave(per), c.repeat_interleave(per)
            self.dense_wt = (dense.weight * a[None, :]).t().contiguous()      # (in, out), float32
            self.dense_b = dense.bias + dense.weight @ c
            self.scale = (1.0 / critic.in_std).reshape(-1)             # the input's standardisation, per row
            self.shift = (-critic.in_mean / critic.in_std).reshape(-1)
        self.dtype = dtype
        self.first = convs[0]

    def _input(self, feats: torch.Tensor) -> torch.Tensor:
        """MFCCs (batch, rows, frames) -> the first layer's input: standardised, rearranged and converted in one
        pass into planes (batch, channels, rows, columns), each plane's rows read with a stride, then made
        channels-last. (Written channels-last directly, each write is of one block's 4 values: one bar's input
        took 0.15 ms on one thread in bf16, profiled, against 0.04 for the planes and 0.02 for their reorder.)"""
        layer = self.layers[0]
        n, rows, frames = feats.shape
        if layer.s2d is None:
            out = torch.empty(n, 1, rows, frames, dtype=self.dtype)
            torch.addcmul(self.shift[:, None], feats, self.scale[:, None], out=out[:, 0])
            return out.contiguous(memory_format=torch.channels_last)    # one channel: the same memory
        (sh, sw), (kh, kw), (st_h, st_w) = layer.s2d, self.first.kernel_size, self.first.stride
        oh, ow = (rows - kh) // st_h + 1, (frames - kw) // st_w + 1
        bh, bw = oh + kh // sh - 1, ow + kw // sw - 1    # blocks read: the rows and frames the conv ever reads
        src = feats[:, :bh * sh, :bw * sw].reshape(n, bh, sh, bw, sw).permute(0, 2, 4, 1, 3)   # (n, dh, dw, bh, bw)
        per_row = (1, sh, 1, bh, 1)                      # row bh * sh + dh's statistics at [dh, bh]
        out = torch.empty(n, sh, sw, bh, bw, dtype=self.dtype)
        torch.addcmul(self.shift[:bh * sh].view(bh, sh).t().reshape(per_row), src,
                      self.scale[:bh * sh].view(bh, sh).t().reshape(per_row), out=out)
        return out.view(n, sh * sw, bh, bw).contiguous(memory_format=torch.channels_last)

    def embed(self, feats: torch.Tensor) -> torch.Tensor:
        """The dense layer's output (batch, dense), float32, for MFCCs ``feats`` (batch, rows, frames).
        Each item's is the same whatever else is in the batch (the dense layer is summed item by item: a
        matrix product's rounding depends on the batch's size), so a rated loop's embedding never changes."""
        h = self._input(feats)
        for layer in self.layers:
            h = layer(h)
        return self._dense(h.float())

    def _dense(self, h: torch.Tensor) -> torch.Tensor:
        """The dense layer and its leaky ReLU on the last convolution's float32 output, summed item by item."""
        h = (h.flatten(1)[:, :, None] * self.dense_wt).sum(1).add_(self.dense_b)
        return nn.functional.leaky_relu_(h, SLOPE)


def version_key(critic) -> tuple:
    """What a Folded copy of ``critic`` depends on: every weight's and statistic's version, and the precision."""
    return (critic.precision, critic.in_mean._version, critic.in_std._version, id(critic.in_mean), id(critic.in_std),
            *(t._version for t in critic.features.parameters()),
            *(t._version for t in critic.features.buffers()), *(t._version for t in critic.head[1].parameters()),
            *(id(t) for t in critic.features.parameters()))
