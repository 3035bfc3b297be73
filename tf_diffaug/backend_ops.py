"""The JAX and PyTorch backends: `keras.ops` and `keras.random`, differentiated by the
backend's own autodiff.

The same values as the TensorFlow path (`transform.py`), written the straightforward
way: the colour map as broadcasts, differentiated by the backend, and the masked shift
as one clipped gather over the flattened pixels times the mask. The masked shift's
gradient is written out, as on TensorFlow: the adjoint of a zero-padded shift is the
opposite shift, a gather again; the backend's own gradient of a gather is a scatter-add,
8x slower under `jax.jit` on a CPU (35 vs 4.5 ms for 16 images of 256 px).
"""

from collections.abc import Callable

import keras
from keras import ops

from tf_diffaug.backend import Tensor
from tf_diffaug.color import ColorAffine
from tf_diffaug.geometry import Geometry

# Draws are integers below 2^23, so that their float32 conversion is exact: the same
# 2^-23 grid as the TensorFlow backend's.
_GRID = 2**23


def base_seed(seed: int | keras.random.SeedGenerator | None) -> object:
    """What `keras.random` is keyed by: the generator itself (one `next()` per draw, so
    that under `jax.jit` its state advances statelessly, as Keras's random layers do),
    None for Keras's global generator, or an int reduced to 32 bits, which is what
    Keras's JAX and PyTorch random ops take."""
    return seed % 2**32 if isinstance(seed, int) else seed


def unit_draws(seed: object, count: int, batch: int) -> Tensor:
    """(count, batch) float32 in [0, 1) on a 2^-23 grid, from one `keras.random` call."""
    bits = keras.random.randint((count, batch), 0, _GRID, dtype="int32", seed=seed)
    return ops.cast(bits, "float32") * (1.0 / _GRID)


def checked_probability(probability: Tensor) -> Tensor:
    """The probability as is: its value is not checked (it may be traced); a value out
    of [0, 1] gates as the nearest end of [0, 1] would."""
    return probability


def checked_batch(
    params: dict[str, Tensor], images: Tensor, unchecked: list[str]
) -> dict[str, Tensor]:
    """`params` as they are: JAX and PyTorch shapes are always static, so every batch
    size was checked when the parameters were validated."""
    return params


def _per_sample(values: Tensor, dtype: str) -> Tensor:
    return ops.reshape(ops.cast(values, dtype), (-1, 1, 1, 1))


def _masked_gather(images: Tensor, shift: Tensor | None, kept: Tensor) -> Tensor:
    """out[b, q] = images[b, q + shift[b]] where kept[b, q], else 0."""
    if shift is not None:
        batch, height, width, channels = ops.shape(images)
        rows = ops.clip(ops.arange(height)[None, :] + shift[:, 0:1], 0, height - 1)
        cols = ops.clip(ops.arange(width)[None, :] + shift[:, 1:2], 0, width - 1)
        source = ops.reshape(rows[:, :, None] * width + cols[:, None, :], (batch, -1, 1))
        flat = ops.reshape(images, (batch, height * width, channels))
        source = ops.broadcast_to(source, (batch, height * width, channels))
        images = ops.reshape(ops.take_along_axis(flat, source, axis=1), ops.shape(images))
    return images * ops.cast(kept, images.dtype)[..., None]


def _masked_shift(images: Tensor, geometry: Geometry) -> Tensor:
    """`geometry`'s masked shift of `images`, with its adjoint as the gradient."""

    @ops.custom_gradient
    def forward(x: Tensor) -> tuple[Tensor, Callable[..., Tensor]]:
        def grad(*args: Tensor, upstream: Tensor | None = None) -> Tensor:
            if upstream is None:  # JAX passes the upstream gradient positionally
                (upstream,) = args
            return _masked_gather(upstream, *geometry.transposed())

        return _masked_gather(x, *geometry.forward()), grad

    return forward(images)


def transform(images: Tensor, color: ColorAffine | None, geometry: Geometry | None) -> Tensor:
    """Applies `color` (or nothing, for None) then `geometry` (or nothing) to an NHWC
    float batch; the output has the shape and dtype of `images`."""
    dtype = images.dtype
    x = images
    if color is not None:
        x = _per_sample(color.scale, dtype) * images + _per_sample(color.offset, dtype)
        if color.pixel_mix is not None:
            pixel_mean = ops.mean(images, axis=3, keepdims=True)
            x += _per_sample(color.pixel_mix, dtype) * pixel_mean
        if color.image_mix is not None:
            image_mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
            x += _per_sample(color.image_mix, dtype) * image_mean
    if geometry is not None:
        x = _masked_shift(x, geometry)
    return x
