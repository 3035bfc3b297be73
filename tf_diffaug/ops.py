"""The DiffAugment ops, one pure pair of functions each: sample parameters, apply them.

Every op works on a float NHWC batch and is differentiable with respect to the images.
Samplers take a `Draw` (a source of stateless seeds) so that the same code runs eagerly,
in `tf.function`, under XLA and on every replica of a `tf.distribute` strategy.

Semantics follow the paper's TensorFlow code (mit-han-lab/data-efficient-gans,
`DiffAugment_tf.py`); the formulas are written in `../shared/DESIGN.md` and checked
exactly by `tests/test_ops.py`. The implementations differ from the reference where it is
faster and equal: translation is a pair of row/column gathers with an analytic gradient
(the adjoint of a shift is the opposite shift) instead of pad + `gather_nd`, and cutout is
an outer product of a row and a column interval mask instead of `scatter_nd`.
"""

import dataclasses
from collections.abc import Callable

import tensorflow as tf


class Draw:
    """Hands out distinct stateless seeds derived from one base seed.

    Args:
        base_seed: int64 tensor of shape (2,), e.g. from `keras.random.SeedGenerator.next()`.
    """

    def __init__(self, base_seed):
        self._base = tf.cast(base_seed, tf.int64)
        self._count = 0

    def seed(self):
        """Returns a fresh (2,) int64 seed; successive seeds give independent streams."""
        self._count += 1
        return self._base + tf.constant([0, self._count], tf.int64)

    def uniform(self, batch, minval, maxval):
        return tf.random.stateless_uniform((batch,), self.seed(), minval, maxval)

    def randint(self, batch, minval, maxval):
        """Integers in [minval, maxval); bounds may be tensors (dynamic image sizes)."""
        return tf.random.stateless_uniform(
            (batch,), self.seed(), minval, maxval, dtype=tf.int32
        )


def scaled_size(side, ratio):
    """int(side * ratio + 0.5): the translation bound k and the cutout side c.

    Static (Python int) when `side` is static, so that XLA sees constant shapes.
    """
    if isinstance(side, int):
        return int(side * ratio + 0.5)
    return tf.cast(tf.cast(side, tf.float32) * ratio + 0.5, tf.int32)


def _per_sample(values, dtype):
    return tf.reshape(tf.cast(values, dtype), (-1, 1, 1, 1))


# --- color --------------------------------------------------------------------------


def sample_brightness(draw, batch, height, width, config):
    return draw.uniform(batch, -0.5, 0.5)


def apply_brightness(images, brightness, config):
    """x + b."""
    return images + _per_sample(brightness, images.dtype)


def sample_saturation(draw, batch, height, width, config):
    return draw.uniform(batch, 0.0, 2.0)


def apply_saturation(images, saturation, config):
    """(x - m) * s + m, m the mean over channels of each pixel."""
    mean = tf.reduce_mean(images, axis=3, keepdims=True)
    return (images - mean) * _per_sample(saturation, images.dtype) + mean


def sample_contrast(draw, batch, height, width, config):
    return draw.uniform(batch, 0.5, 1.5)


def apply_contrast(images, contrast, config):
    """(x - m) * c + m, m the mean over H, W and C of each image."""
    mean = tf.reduce_mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * _per_sample(contrast, images.dtype) + mean


# --- translation --------------------------------------------------------------------


def sample_translation(draw, batch, height, width, config):
    ky = scaled_size(height, config.translation_ratio)
    kx = scaled_size(width, config.translation_ratio)
    ty = draw.randint(batch, -ky, ky + 1)
    tx = draw.randint(batch, -kx, kx + 1)
    return tf.stack([ty, tx], axis=1)


def _shift_axis(images, shift, axis):
    """out[.., i, ..] = images[.., i + shift, ..] along `axis` (1 or 2), zero outside."""
    size = tf.shape(images)[axis]
    source = tf.range(size)[tf.newaxis, :] + shift[:, tf.newaxis]  # (B, size)
    inside = (source >= 0) & (source < size)
    gathered = tf.gather(images, tf.clip_by_value(source, 0, size - 1), axis=axis, batch_dims=1)
    mask_shape = (-1, size, 1, 1) if axis == 1 else (-1, 1, size, 1)
    return gathered * tf.reshape(tf.cast(inside, images.dtype), mask_shape)


@tf.custom_gradient
def _translate(images, translation):
    def shift(x, t):
        return _shift_axis(_shift_axis(x, t[:, 0], axis=1), t[:, 1], axis=2)

    def grad(upstream):
        # A zero-padded shift by t is a partial permutation; its adjoint is the shift by -t.
        # This keeps the backward pass a gather instead of a scatter-add.
        return shift(upstream, -translation), None

    return shift(images, translation), grad


def apply_translation(images, translation, config):
    """out[h, w] = x[h + ty, w + tx], zero where the source lies outside the image."""
    return _translate(images, tf.cast(translation, tf.int32))


# --- cutout -------------------------------------------------------------------------


def _cutout_sizes(images, config):
    height, width = _static_or_dynamic_hw(images)
    return scaled_size(height, config.cutout_ratio), scaled_size(width, config.cutout_ratio)


def sample_cutout(draw, batch, height, width, config):
    ch = scaled_size(height, config.cutout_ratio)
    cw = scaled_size(width, config.cutout_ratio)
    cy = draw.randint(batch, 0, height + (1 - ch % 2))
    cx = draw.randint(batch, 0, width + (1 - cw % 2))
    return tf.stack([cy, cx], axis=1)


def _interval_mask(size, start, length):
    """(B, size) bool: i in [start, start + length)."""
    index = tf.range(size)[tf.newaxis, :]
    start = start[:, tf.newaxis]
    return (index >= start) & (index < start + length)


def cutout_mask(images, cutout, config):
    """(B, H, W, 1) mask: 0 inside the cutout square, 1 elsewhere (clipped to the image)."""
    height, width = _static_or_dynamic_hw(images)
    ch, cw = _cutout_sizes(images, config)
    cutout = tf.cast(cutout, tf.int32)
    rows = _interval_mask(height, cutout[:, 0] - ch // 2, ch)
    cols = _interval_mask(width, cutout[:, 1] - cw // 2, cw)
    inside = rows[:, :, tf.newaxis] & cols[:, tf.newaxis, :]
    return tf.cast(~inside, images.dtype)[..., tf.newaxis]


def apply_cutout(images, cutout, config):
    """Zero rows [cy - c//2, cy - c//2 + c) x columns [cx - c//2, cx - c//2 + c)."""
    return images * cutout_mask(images, cutout, config)


# --- extras: flip and rotate90 ------------------------------------------------------


def sample_flip(draw, batch, height, width, config):
    return draw.uniform(batch, 0.0, 1.0) < 0.5


def apply_flip(images, flip, config):
    """Horizontal (left-right) flip of the samples where `flip` is True."""
    return tf.where(tf.reshape(flip, (-1, 1, 1, 1)), tf.reverse(images, axis=[2]), images)


def sample_rotate90(draw, batch, height, width, config):
    return draw.randint(batch, 0, 4)


def apply_rotate90(images, rotate90, config):
    """Counter-clockwise rotation by k * 90 degrees, k in {0, 1, 2, 3}, as `np.rot90`.

    rot90 by k = (transpose H/W if k is odd), then reverse H if k in {1, 2} and reverse
    W if k in {2, 3}: three cheap selects instead of four full rotations.
    """
    height, width = _static_or_dynamic_hw(images)
    if isinstance(height, int) and isinstance(width, int) and height != width:
        raise ValueError(
            "The `rotate90` op needs square images (a 90-degree rotation changes the shape "
            f"otherwise). Received: images of shape {images.shape}. Remove `rotate90` from "
            "the policy or crop the images to a square."
        )
    k = tf.reshape(tf.cast(rotate90, tf.int32), (-1, 1, 1, 1))
    images = tf.where(k % 2 == 1, tf.transpose(images, (0, 2, 1, 3)), images)
    images = tf.where((k == 1) | (k == 2), tf.reverse(images, axis=[1]), images)
    return tf.where(k >= 2, tf.reverse(images, axis=[2]), images)


def _static_or_dynamic_hw(images):
    height, width = images.shape[1], images.shape[2]
    dynamic = tf.shape(images)
    return (
        height if height is not None else dynamic[1],
        width if width is not None else dynamic[2],
    )


# --- registry -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Op:
    """One augmentation op.

    Attributes:
        name: the name used in policies and as the key of the transformation dict.
        sample: `(draw, batch, height, width, config) -> params` for a batch.
        apply: `(images, params, config) -> images`, deterministic and differentiable.
        identity: `(batch) -> params` that leave a sample unchanged, or None when the op
            has no identity parameters (cutout), in which case skipped samples are
            recorded in a `"<name>_applied"` bool entry.
    """

    name: str
    sample: Callable
    apply: Callable
    identity: Callable | None


OPS = {
    op.name: op
    for op in (
        Op("brightness", sample_brightness, apply_brightness, lambda b: tf.zeros((b,))),
        Op("saturation", sample_saturation, apply_saturation, lambda b: tf.ones((b,))),
        Op("contrast", sample_contrast, apply_contrast, lambda b: tf.ones((b,))),
        Op(
            "translation",
            sample_translation,
            apply_translation,
            lambda b: tf.zeros((b, 2), tf.int32),
        ),
        Op("cutout", sample_cutout, apply_cutout, None),
        Op("flip", sample_flip, apply_flip, lambda b: tf.zeros((b,), tf.bool)),
        Op("rotate90", sample_rotate90, apply_rotate90, lambda b: tf.zeros((b,), tf.int32)),
    )
}

# Policy shorthands, expanded in order.
GROUPS = {"color": ("brightness", "saturation", "contrast")}
