"""The DiffAugment ops, one pure pair of functions each: sample parameters, apply them.

Every op works on a float NHWC batch and is differentiable with respect to the images.
Samplers take a `Draw` (stateless random bits from one seed) so that the same code runs
eagerly, in `tf.function`, under XLA and on every replica of a `tf.distribute` strategy.

Semantics follow the paper's TensorFlow code (mit-han-lab/data-efficient-gans,
`DiffAugment_tf.py`); the formulas are written in `../shared/DESIGN.md` and checked
exactly by `tests/test_ops.py`. The implementations differ from the reference where it is
faster and equal: runs of color ops are fused into one affine map, translation is one
gather over the flattened image with an analytic gradient (the adjoint of a shift is the
opposite shift) instead of pad + `gather_nd` twice, and cutout is an outer product of a
row and a column interval mask instead of `scatter_nd`.
"""

import dataclasses
from collections.abc import Callable

import tensorflow as tf

# One fixed RNG algorithm, so that a seed gives the same draws eagerly, in graph mode and
# under XLA ("auto_select" picks different algorithms per device/compiler).
_ALG = "philox"


def fold_in(seed, data):
    """A new stateless seed from `seed` and an integer (`data` may be a tensor)."""
    return tf.random.experimental.stateless_fold_in(seed, data, alg=_ALG)


class Draw:
    """All the random numbers of one transformation, from a single Philox call.

    Each `uniform` / `randint` consumes one row of `count` rows of per-sample random
    bits. One stateless call for the whole transformation keeps sampling cheap next to
    the image work (it matters at 32 px), and converting the bits ourselves gives
    identical values with and without XLA (whose float conversion inside
    `stateless_uniform` differs from the CPU kernel's).

    Args:
        seed: int tensor of shape (2,), e.g. from `keras.random.SeedGenerator.next()`.
        batch: number of samples (may be a tensor).
        count: number of `uniform` / `randint` calls that will be made.
    """

    def __init__(self, seed, batch, count):
        self._bits = tf.random.stateless_uniform(
            (count, batch), seed, minval=None, maxval=None, dtype=tf.uint32, alg=_ALG
        )
        self._used = 0

    def _unit(self):
        """(B,) floats in [0, 1) on a 2^-23 grid (a float32 mantissa), so that
        minval + width * unit is exact and never rounds up to maxval for the ranges here."""
        bits = self._bits[self._used]
        self._used += 1
        return tf.cast(tf.bitwise.right_shift(bits, 9), tf.float32) * (2.0**-23)

    def uniform(self, minval, maxval):
        return minval + (maxval - minval) * self._unit()

    def randint(self, minval, maxval):
        """Integers in [minval, maxval); bounds may be tensors (dynamic image sizes).

        The 2^-23 grid biases values by at most span / 2^23 (< 1e-5 for spans below 65).
        """
        span = maxval - minval
        index = tf.cast(self._unit() * tf.cast(span, tf.float32), tf.int32)
        return minval + tf.minimum(index, span - 1)


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
#
# Each color op maps y to an affine function of the same form, so any run of color ops
# composes into one per-sample affine map of the input x:
#     y = scale * x + pixel_mix * mean_c(x) + image_mix * mean_hwc(x) + offset
# (mean_c over channels of a pixel, mean_hwc over the whole image). `Policy.apply` fuses
# consecutive color ops this way: two reductions and one elementwise pass in total
# instead of one pass per op, with the same result as applying the ops one by one.


@dataclasses.dataclass(frozen=True)
class ColorAffine:
    """Per-sample coefficients (each (B,), float32) of the affine color map above.

    `pixel_mix` and `image_mix` are None while structurally zero, so that a lone
    brightness op computes no mean at all.
    """

    scale: tf.Tensor
    offset: tf.Tensor
    pixel_mix: tf.Tensor | None = None
    image_mix: tf.Tensor | None = None

    @classmethod
    def identity(cls, like):
        return cls(scale=tf.ones_like(like, tf.float32), offset=tf.zeros_like(like, tf.float32))

    def brightness(self, b):
        """y + b."""
        return dataclasses.replace(self, offset=self.offset + b)

    def saturation(self, s):
        """(y - m) * s + m, m = mean_c(y): only the part of y orthogonal to mean_c scales."""
        pixel_mix = (1.0 - s) * self.scale
        if self.pixel_mix is not None:
            pixel_mix += self.pixel_mix
        return dataclasses.replace(self, scale=s * self.scale, pixel_mix=pixel_mix)

    def contrast(self, c):
        """(y - m) * c + m, m = mean_hwc(y) = (scale + pixel_mix) mean_hwc(x) + ... + offset."""
        total = self.scale if self.pixel_mix is None else self.scale + self.pixel_mix
        image_mix = (1.0 - c) * total
        if self.image_mix is not None:
            image_mix += self.image_mix
        return ColorAffine(
            scale=c * self.scale,
            offset=self.offset,
            pixel_mix=None if self.pixel_mix is None else c * self.pixel_mix,
            image_mix=image_mix,
        )

    def __call__(self, images):
        coef = lambda v: None if v is None else _per_sample(v, images.dtype)
        return _affine_color(
            images, coef(self.scale), coef(self.offset), coef(self.pixel_mix), coef(self.image_mix)
        )


def _affine_color(images, scale, offset, pixel_mix, image_mix):
    """scale * x + pixel_mix * mean_c(x) + image_mix * mean_hwc(x) + offset.

    The map is self-adjoint up to the offset: its gradient is the same expression applied
    to the upstream gradient (without offset). Writing it out lets both the forward and the
    backward pass take the image mean from the per-pixel channel mean
    (mean_hwc = mean_hw of mean_c), one reduction over the full tensor instead of two.
    """
    if pixel_mix is None and image_mix is None:
        return scale * images + offset  # brightness only: no reduction at all

    def linear_part(x):
        pixel_mean = tf.reduce_mean(x, axis=3, keepdims=True)
        out = scale * x
        if pixel_mix is not None:
            out += pixel_mix * pixel_mean
        if image_mix is not None:
            out += image_mix * tf.reduce_mean(pixel_mean, axis=(1, 2), keepdims=True)
        return out

    @tf.custom_gradient
    def affine(x):
        return linear_part(x) + offset, lambda upstream: linear_part(upstream)

    return affine(images)


def sample_brightness(draw, batch, height, width, config):
    return draw.uniform(-0.5, 0.5)


def apply_brightness(images, brightness, config):
    """x + b."""
    return ColorAffine.identity(brightness).brightness(brightness)(images)


def sample_saturation(draw, batch, height, width, config):
    return draw.uniform(0.0, 2.0)


def apply_saturation(images, saturation, config):
    """(x - m) * s + m, m the mean over channels of each pixel."""
    return ColorAffine.identity(saturation).saturation(saturation)(images)


def sample_contrast(draw, batch, height, width, config):
    return draw.uniform(0.5, 1.5)


def apply_contrast(images, contrast, config):
    """(x - m) * c + m, m the mean over H, W and C of each image."""
    return ColorAffine.identity(contrast).contrast(contrast)(images)


# --- translation --------------------------------------------------------------------


def sample_translation(draw, batch, height, width, config):
    ky = scaled_size(height, config.translation_ratio)
    kx = scaled_size(width, config.translation_ratio)
    ty = draw.randint(-ky, ky + 1)
    tx = draw.randint(-kx, kx + 1)
    return tf.stack([ty, tx], axis=1)


def _shift(images, translation):
    """out[b, h, w] = images[b, h + ty, w + tx], zero where the source is outside.

    One gather over the flattened H*W axis and one mask multiply, both of which XLA fuses
    with their neighbours.
    """
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    rows = tf.range(height)[tf.newaxis, :] + translation[:, 0:1]  # (B, H)
    cols = tf.range(width)[tf.newaxis, :] + translation[:, 1:2]  # (B, W)
    inside = ((rows >= 0) & (rows < height))[:, :, tf.newaxis] & ((cols >= 0) & (cols < width))[
        :, tf.newaxis, :
    ]
    source = (
        tf.clip_by_value(rows, 0, height - 1)[:, :, tf.newaxis] * width
        + tf.clip_by_value(cols, 0, width - 1)[:, tf.newaxis, :]
    )  # (B, H, W) flat source index
    flat = tf.reshape(images, (shape[0], height * width, shape[3]))
    gathered = tf.gather(flat, tf.reshape(source, (shape[0], -1)), axis=1, batch_dims=1)
    mask = tf.cast(inside, images.dtype)[..., tf.newaxis]
    return tf.reshape(gathered, shape) * mask


@tf.custom_gradient
def _translate(images, translation):
    def grad(upstream):
        # A zero-padded shift by t is a partial permutation; its adjoint is the shift by -t.
        # This keeps the backward pass a gather instead of a scatter-add.
        return _shift(upstream, -translation), None

    return _shift(images, translation), grad


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
    cy = draw.randint(0, height + (1 - ch % 2))
    cx = draw.randint(0, width + (1 - cw % 2))
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
    return draw.uniform(0.0, 1.0) < 0.5


def apply_flip(images, flip, config):
    """Horizontal (left-right) flip of the samples where `flip` is True."""
    return tf.where(tf.reshape(flip, (-1, 1, 1, 1)), tf.reverse(images, axis=[2]), images)


def sample_rotate90(draw, batch, height, width, config):
    return draw.randint(0, 4)


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
        is_color: whether the op is a `ColorAffine` method of the same name, so that runs
            of color ops can be fused.
        num_draws: how many `Draw` rows `sample` uses.
    """

    name: str
    sample: Callable
    apply: Callable
    identity: Callable | None
    is_color: bool = False
    num_draws: int = 1


OPS = {
    op.name: op
    for op in (
        Op("brightness", sample_brightness, apply_brightness, lambda b: tf.zeros((b,)), True),
        Op("saturation", sample_saturation, apply_saturation, lambda b: tf.ones((b,)), True),
        Op("contrast", sample_contrast, apply_contrast, lambda b: tf.ones((b,)), True),
        Op(
            "translation",
            sample_translation,
            apply_translation,
            lambda b: tf.zeros((b, 2), tf.int32),
            num_draws=2,
        ),
        Op("cutout", sample_cutout, apply_cutout, None, num_draws=2),
        Op("flip", sample_flip, apply_flip, lambda b: tf.zeros((b,), tf.bool)),
        Op("rotate90", sample_rotate90, apply_rotate90, lambda b: tf.zeros((b,), tf.int32)),
    )
}

# Policy shorthands, expanded in order.
GROUPS = {"color": ("brightness", "saturation", "contrast")}
