"""FIR up/down-sampling by 2 with plain TensorFlow ops (no custom CUDA kernels).

StyleGAN2 resamples with a separable low-pass FIR filter, by default `[1, 3, 3, 1]`.
For 2x up-sampling this filter *is* bilinear interpolation (half-pixel centres): away
from the border `upsample_2d` equals `tf.image.resize(x, 2 * size, "bilinear")`; for
down-sampling it is the anti-aliased bilinear filter. `[1, 1]` gives nearest-neighbour
up-sampling and 2x2 box (average-pool) down-sampling.

Filtering is separable and done with shifted slices, reshapes and adds only: up-sampling
is computed polyphase (no multiplications by inserted zeros), down-sampling reads even
and odd phases. Everything compiles under XLA and runs on CPU, GPU and TPU. Borders are
zero-padded, as in the reference `upfirdn_2d`.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

DEFAULT_FILTER = (1, 3, 3, 1)


def _normalized(taps: Sequence[float], gain: float) -> np.ndarray:
    """1-D taps reversed (convolution, not correlation), summing to sqrt(gain)."""
    array = np.asarray(taps, np.float64)
    return array[::-1] / array.sum() * np.sqrt(gain)


def _pad_axis(x: tf.Tensor, axis: int, before: int, after: int) -> tf.Tensor:
    paddings = [[0, 0]] * 4
    paddings[axis] = [before, after]
    return tf.pad(x, paddings) if before or after else x


def _slice_axis(x: tf.Tensor, axis: int, start: int, size: int) -> tf.Tensor:
    """`x[start:start + size]` along `axis`, with a pad as its gradient.

    The pad is much faster in graph mode than the generic strided-slice gradient, and,
    unlike `tf.slice`'s gradient under XLA (a dynamic-update-slice), it can itself be
    differentiated, which R1 and path-length regularisation need.
    """
    begin, sizes, paddings = [0] * 4, [-1] * 4, [[0, 0]] * 4
    begin[axis], sizes[axis] = start, size
    paddings[axis] = [start, x.shape[axis] - start - size]

    @tf.custom_gradient
    def slice_with_pad_gradient(
        x: tf.Tensor,
    ) -> tuple[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]]:
        return tf.slice(x, begin, sizes), lambda dy: tf.pad(dy, paddings)

    return slice_with_pad_gradient(x)


def _weighted_sum(terms: Iterable[tuple[float, tf.Tensor]]) -> tf.Tensor:
    """sum(weight * tensor) over `(weight, tensor)` pairs."""
    total = None
    for weight, tensor in terms:
        term = tensor * tf.cast(weight, tensor.dtype)
        total = term if total is None else total + term
    return total


def _filter_axis(
    x: tf.Tensor, taps: np.ndarray, axis: int, pad: tuple[int, int], down: bool
) -> tf.Tensor:
    """1-D FIR along `axis` after zero-padding by `pad`, with stride 2 if `down`."""
    x = _pad_axis(x, axis, *pad)
    size = (x.shape[axis] - len(taps)) // (2 if down else 1) + 1
    if not down:
        return _weighted_sum((t, _slice_axis(x, axis, k, size)) for k, t in enumerate(taps))
    # Stride 2 without strided slices: split even and odd samples with a reshape, then
    # tap k reads phase k % 2 from offset k // 2.
    x = _pad_axis(x, axis, 0, x.shape[axis] % 2)
    shape = [-1 if i == 0 else d for i, d in enumerate(x.shape)]
    shape[axis : axis + 1] = [x.shape[axis] // 2, 2]
    phases = tf.unstack(tf.reshape(x, shape), axis=axis + 1)
    return _weighted_sum(
        (t, _slice_axis(phases[k % 2], axis, k // 2, size)) for k, t in enumerate(taps)
    )


def _upsample_axis(x: tf.Tensor, taps: np.ndarray, axis: int) -> tf.Tensor:
    """2x up-sampling along `axis`: zero insertion then FIR, computed polyphase (output
    sample 2j + r only sums the taps that meet non-zero inputs), then interleaved."""
    p0 = (len(taps) - 1) // 2 + 1  # the reference upfirdn padding before the filter
    offsets = {
        r: [(k, (r + k - p0) // 2) for k in range(len(taps)) if (r + k - p0) % 2 == 0]
        for r in (0, 1)
    }
    low = -min(d for pairs in offsets.values() for _, d in pairs)
    high = max(d for pairs in offsets.values() for _, d in pairs)
    size = x.shape[axis]
    x = _pad_axis(x, axis, max(low, 0), max(high, 0))
    phases = [
        _weighted_sum((taps[k], _slice_axis(x, axis, d + max(low, 0), size)) for k, d in pairs)
        for pairs in offsets.values()
    ]
    shape = [-1 if i == 0 else d for i, d in enumerate(phases[0].shape)]
    shape[axis] *= 2
    return tf.reshape(tf.stack(phases, axis=axis + 1), shape)


def fir_filter(
    x: tf.Tensor,
    taps: Sequence[float],
    pad: tuple[int, int] = (0, 0),
    gain: float = 1.0,
    down: bool = False,
) -> tf.Tensor:
    """Zero-pads `x` (NHWC, static height and width) spatially by `pad = (before, after)`
    and convolves it with the separable FIR filter `outer(taps, taps)` normalised to sum
    `gain`, with stride 2 when `down`.

    Each 1-D pass is a weighted sum of `len(taps)` shifted slices: elementwise work that
    runs fast in graph mode and that XLA fuses, where depthwise convolutions are slow on
    CPU under XLA.

    Args:
        x: (B, H, W, C) with static H and W.
        taps: 1-D filter taps (normalised here; their scale does not matter).
        pad: zeros added before and after along H and along W.
        gain: the sum of the 2-D filter.
        down: stride 2 (halves the filtered size).

    Returns:
        The filtered tensor.
    """
    normalized = _normalized(taps, gain)
    for axis in (1, 2):
        x = _filter_axis(x, normalized, axis, pad, down)
    return x


def upsample_2d(x: tf.Tensor, taps: Sequence[float] = DEFAULT_FILTER) -> tf.Tensor:
    """Doubles the height and width of `x` (NHWC, static sides) with the FIR filter."""
    normalized = _normalized(taps, 4.0)
    for axis in (1, 2):
        x = _upsample_axis(x, normalized, axis)
    return x


def downsample_2d(x: tf.Tensor, taps: Sequence[float] = DEFAULT_FILTER) -> tf.Tensor:
    """Halves the height and width of `x` (NHWC, static sides) with the FIR filter."""
    p = len(taps) - 2
    return fir_filter(x, taps, pad=((p + 1) // 2, p // 2), down=True)


def check_taps(taps: Sequence[float]) -> list[float]:
    """`taps` as a list of floats; a non-empty 1-D sequence with a non-zero sum.

    Raises:
        ValueError: for taps of another rank, none, or a zero sum.
    """
    array = np.asarray(taps, np.float64)
    if array.ndim != 1 or array.size < 1 or array.sum() == 0:
        raise ValueError(
            f"`taps` must be a non-empty 1-D sequence with a non-zero sum. Received: {taps!r}"
        )
    return [float(t) for t in array]


@keras.saving.register_keras_serializable(package="keras_models")
class Upsample2D(keras.layers.Layer):
    """2x FIR up-sampling layer (NHWC); see `upsample_2d`.

    Args:
        taps: 1-D filter taps; `[1, 3, 3, 1]` is bilinear, `[1, 1]` nearest.
        **kwargs: base layer arguments.
    """

    def __init__(self, taps: Sequence[float] = DEFAULT_FILTER, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.taps = check_taps(taps)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return upsample_2d(x, self.taps)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        b, h, w, c = input_shape
        return (b, None if h is None else 2 * h, None if w is None else 2 * w, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "taps": self.taps}


@keras.saving.register_keras_serializable(package="keras_models")
class Downsample2D(keras.layers.Layer):
    """2x FIR down-sampling layer (NHWC); see `downsample_2d`.

    Args:
        taps: 1-D filter taps; `[1, 3, 3, 1]` is anti-aliased bilinear, `[1, 1]` box.
        **kwargs: base layer arguments.
    """

    def __init__(self, taps: Sequence[float] = DEFAULT_FILTER, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.taps = check_taps(taps)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return downsample_2d(x, self.taps)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        b, h, w, c = input_shape
        return (b, None if h is None else h // 2, None if w is None else w // 2, c)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "taps": self.taps}
