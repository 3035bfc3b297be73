"""The DiffAugment ops, one pure pair of functions each: sample parameters, apply them.

Every op works on a float NHWC batch and is differentiable with respect to the images.
Samplers take a `Draw` (stateless random bits from one seed) so that the same code runs
eagerly, in `tf.function`, under XLA and on every replica of a `tf.distribute` strategy.

Semantics follow the paper's TensorFlow code (mit-han-lab/data-efficient-gans,
`DiffAugment_tf.py`); the formulas are written in `../shared/DESIGN.md` and checked
exactly by `tests/test_ops.py`. The implementation differs from the reference where it is
faster and equal: a run of color ops is one per-sample affine map (`ColorAffine`), a run
of translation and cutout ops is one masked shift (`Geometry`: a single gather of whole
pixels, instead of pad + `gather_nd` and `scatter_nd`), and `transform` applies a color
map followed by a masked shift as one forward and one backward pass with a hand-written
gradient (the adjoint of a shift is the opposite shift, so the backward pass is a gather
too, never a scatter). Where XLA and TensorFlow's kernels favour different formulations,
`compiling_with_xla` picks one at trace time.
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

try:  # private: TensorFlow has no public way to ask whether a trace is for XLA
    from tensorflow.python.framework import ops as _framework_ops
    from tensorflow.python.ops import control_flow_util as _control_flow_util
except ImportError:
    _control_flow_util = None

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
    """int(side * ratio + 0.5) in float32: the translation bound k and the cutout side c.

    Float32 as in the paper's code (`tf.cast(tf.cast(size, tf.float32) * ratio + 0.5,
    tf.int32)`), for static and dynamic sides alike: in float64, 45 * 0.7 + 0.5 is just
    below 32 and would truncate to 31. Static (a Python int) when `side` is static, so
    that XLA sees constant shapes.
    """
    if isinstance(side, int):
        return int(np.float32(side) * np.float32(ratio) + np.float32(0.5))
    return tf.cast(tf.cast(side, tf.float32) * ratio + 0.5, tf.int32)


def _per_sample(values, dtype):
    return tf.reshape(tf.cast(values, dtype), (-1, 1, 1, 1))


# --- color --------------------------------------------------------------------------
#
# Each color op maps y to an affine function of the same form, so any run of color ops
# composes into one per-sample affine map of the input x:
#     y = scale * x + pixel_mix * mean_c(x) + image_mix * mean_hwc(x) + offset
# (mean_c over channels of a pixel, mean_hwc over the whole image). `Policy.apply` fuses
# consecutive color ops this way: one reduction (the image mean) and one pass over the
# pixels instead of passes per op, with the same result as applying the ops one by one.
# Everything but the image mean acts within a pixel ("pointwise" below), and the map is
# self-adjoint up to the offset, which `transform` uses to write its gradient.


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


def _channel_mean(x):
    """(B, H, W, 1) mean over channels.

    A sum of channel slices rather than `reduce_mean`: XLA fuses it into the elementwise
    pass that uses it, where a reduction over a minor axis of 3 is its own slow loop.
    """
    channels = x.shape[3]
    if channels is None:
        return tf.reduce_mean(x, axis=3, keepdims=True)
    return tf.add_n([x[..., c : c + 1] for c in range(channels)]) * (1.0 / channels)


def _image_mean(x):
    """(B, 1, 1, 1) mean over H, W and C, accumulated in at least float32.

    Row sums are a matrix-vector product with a vector of ones, which XLA runs 2-3x
    faster than a reduction loop on CPU; the H row sums are then added.
    """
    accumulate = tf.float64 if x.dtype == tf.float64 else tf.float32
    shape = tf.shape(x)
    row_length = shape[2] * shape[3]
    rows = tf.reshape(tf.cast(x, accumulate), (-1, row_length))
    row_sums = tf.matmul(rows, tf.ones((row_length, 1), accumulate))
    sums = tf.reduce_sum(tf.reshape(row_sums, (shape[0], -1)), axis=1)
    mean = sums / tf.cast(shape[1] * row_length, accumulate)
    return tf.reshape(tf.cast(mean, x.dtype), (-1, 1, 1, 1))


def sample_brightness(draw, batch, height, width, config):
    return draw.uniform(-0.5, 0.5)


def compose(pending, name, value, applied, images, config):
    """`pending` (a `ColorAffine` or `Geometry` of earlier ops, or None) followed by the
    op `name` (one with a `fusion`) with parameters `value`, gated by `applied` (or None).
    """
    if OPS[name].fusion == "color":
        pending = pending or ColorAffine.identity(value)
        return getattr(pending, name)(tf.cast(value, tf.float32))
    pending = pending or Geometry.identity(images, config)
    return getattr(pending, name)(value, applied)


def _apply_alone(images, name, value, config):
    """A fusable op on its own: `transform` with the op as the only color or geometry."""
    return transform(images, **{OPS[name].fusion: compose(None, name, value, None, images, config)})


def apply_brightness(images, brightness, config):
    """x + b."""
    return _apply_alone(images, "brightness", brightness, config)


def sample_saturation(draw, batch, height, width, config):
    return draw.uniform(0.0, 2.0)


def apply_saturation(images, saturation, config):
    """(x - m) * s + m, m the mean over channels of each pixel."""
    return _apply_alone(images, "saturation", saturation, config)


def sample_contrast(draw, batch, height, width, config):
    return draw.uniform(0.5, 1.5)


def apply_contrast(images, contrast, config):
    """(x - m) * c + m, m the mean over H, W and C of each image."""
    return _apply_alone(images, "contrast", contrast, config)


# --- translation and cutout ---------------------------------------------------------


def sample_translation(draw, batch, height, width, config):
    ky = scaled_size(height, config.translation_ratio)
    kx = scaled_size(width, config.translation_ratio)
    ty = draw.randint(-ky, ky + 1)
    tx = draw.randint(-kx, kx + 1)
    return tf.stack([ty, tx], axis=1)


def cutout_size(height, width, config):
    """(ch, cw): the cutout square's side along each axis."""
    return scaled_size(height, config.cutout_ratio), scaled_size(width, config.cutout_ratio)


def sample_cutout(draw, batch, height, width, config):
    ch, cw = cutout_size(height, width, config)
    cy = draw.randint(0, height + (1 - ch % 2))
    cx = draw.randint(0, width + (1 - cw % 2))
    return tf.stack([cy, cx], axis=1)


def _interval_mask(size, start, length):
    """(B, size) bool: i in [start, start + length)."""
    index = tf.range(size)[tf.newaxis, :]
    start = start[:, tf.newaxis]
    return (index >= start) & (index < start + length)


def compiling_with_xla():
    """Whether ops are being traced for XLA (`jit_compile=True`, TPU).

    XLA fuses elementwise work into a few loops, while TensorFlow's graph executor and
    eager mode run every op as its own kernel, and the fastest formulation differs
    between the two (see `benchmarks/augment_bench.py`); both compute the same values.
    """
    if _control_flow_util is None:
        return True  # the XLA formulation is correct everywhere
    return _control_flow_util.GraphOrParentsInXlaContext(_framework_ops.get_default_graph())


def _masked_gather(images, shift, kept):
    """out[b, h, w] = images[b, h + dy, w + dx] where `kept[b, h, w]`, else 0.

    `shift` is (B, 2) int32 (dy, dx) or None (no move); `kept` is (B, H, W) bool and must
    be False wherever the source lies outside the image.
    """
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    rows = tf.range(height)[tf.newaxis, :]
    cols = tf.range(width)[tf.newaxis, :]
    if shift is not None:
        rows, cols = rows + shift[:, 0:1], cols + shift[:, 1:2]
    if compiling_with_xla():
        # A clipped gather over the flattened H*W axis times the mask: XLA fuses both
        # into the loop that produces their consumer.
        if shift is not None:
            rows, cols = tf.clip_by_value(rows, 0, height - 1), tf.clip_by_value(cols, 0, width - 1)
            source = rows[:, :, tf.newaxis] * width + cols[:, tf.newaxis, :]
            flat = tf.reshape(images, (batch, height * width, channels))
            gathered = tf.gather(flat, tf.reshape(source, (batch, -1)), axis=1, batch_dims=1)
            images = tf.reshape(gathered, shape)
        return images * tf.cast(kept, images.dtype)[..., tf.newaxis]
    # One gather of whole pixels from a table with a zero pixel appended, which dropped
    # pixels point to: no mask multiply, whose broadcast over channels is slow as a kernel.
    pixels = batch * height * width
    first = tf.range(batch)[:, tf.newaxis, tf.newaxis] * (height * width)
    source = first + rows[:, :, tf.newaxis] * width + cols[:, tf.newaxis, :]
    source = tf.where(kept, source, pixels)
    table = tf.concat(
        [tf.reshape(images, (pixels, channels)), tf.zeros((1, channels), images.dtype)], axis=0
    )
    return tf.reshape(tf.gather(table, source), shape)


@dataclasses.dataclass(frozen=True)
class Geometry:
    """A run of translation and cutout ops as one masked shift:

        y[b, h, w] = x[b, h + ty, w + tx] * inside[b, h, w] * (1 - hole[b, h, w])

    `inside` zeroes the pixels whose source lies outside the image (the zero padding of
    the translation) and `hole` is the cutout square in output coordinates; a cutout
    applied before the translation moves with the image, i.e. its square shifts by -t.

    Attributes:
        height, width: image size (Python ints when static).
        hole_size: (ch, cw), the cutout side for this image size.
        shift: (B, 2) int32 translation (ty, tx), or None.
        hole_start: (B, 2) int32 top-left corner of the cutout square, or None.
        hole_applied: (B,) bool: which samples get the cutout (None: all).
    """

    height: object
    width: object
    hole_size: tuple
    shift: tf.Tensor | None = None
    hole_start: tf.Tensor | None = None
    hole_applied: tf.Tensor | None = None

    @classmethod
    def identity(cls, images, config):
        height, width = _static_or_dynamic_hw(images)
        return cls(height, width, cutout_size(height, width, config))

    def translation(self, shift, applied=None):
        """Then translate by `shift` (per sample, where `applied`)."""
        shift = tf.cast(shift, tf.int32)
        if applied is not None:
            shift = tf.where(applied[:, tf.newaxis], shift, 0)
        hole_start = None if self.hole_start is None else self.hole_start - shift
        return dataclasses.replace(self, shift=shift, hole_start=hole_start)

    def cutout(self, center, applied=None):
        """Then zero the square of side `hole_size` centred at `center` (where `applied`)."""
        half = tf.stack([self.hole_size[0] // 2, self.hole_size[1] // 2])
        return dataclasses.replace(
            self, hole_start=tf.cast(center, tf.int32) - half, hole_applied=applied
        )

    def kept(self, shift=None, hole_start=None):
        """(B, H, W) bool: pixels whose source (shifted by `shift`) is inside the image and
        that lie outside the hole at `hole_start` (defaults: this geometry's forward map)."""
        if shift is None and hole_start is None:
            shift, hole_start = self.shift, self.hole_start
        kept = None
        if shift is not None:
            rows = _interval_mask(self.height, -shift[:, 0], self.height)
            cols = _interval_mask(self.width, -shift[:, 1], self.width)
            kept = rows[:, :, tf.newaxis] & cols[:, tf.newaxis, :]
        if hole_start is not None:
            rows = _interval_mask(self.height, hole_start[:, 0], self.hole_size[0])
            if self.hole_applied is not None:
                rows &= self.hole_applied[:, tf.newaxis]
            cols = _interval_mask(self.width, hole_start[:, 1], self.hole_size[1])
            outside = ~(rows[:, :, tf.newaxis] & cols[:, tf.newaxis, :])
            kept = outside if kept is None else kept & outside
        return kept

    def __call__(self, images):
        """The masked shift of `images` (B, H, W, C)."""
        return _masked_gather(images, self.shift, self.kept())

    def adjoint(self, images):
        """The transposed map: x[q] = images[q - t] where the forward map kept q - t.

        A zero-padded shift by t is a partial permutation, so its adjoint is the shift by
        -t with the forward mask moved along: a gather again, never a scatter-add.
        """
        if self.shift is None:
            return _masked_gather(images, None, self.kept())
        hole_start = None if self.hole_start is None else self.hole_start + self.shift
        return _masked_gather(images, -self.shift, self.kept(-self.shift, hole_start))


def transform(images, color=None, geometry=None):
    """geometry(color(images)), one fused pass forward and one backward.

    With A the color map (A(x) = P(x) + image_mix * mean_hwc(x) + offset, P acting within
    each pixel and self-adjoint) and S the masked shift, the gradient of S(A(x)) with
    respect to x for an upstream gradient g is

        A^T(S^T(g)) = S^T(P(g)) + image_mix * mean_hwc(kept * g)

    because S moves whole pixels and so commutes with P, and the sum of S^T(g) is the
    sum of g over the pixels S keeps. So the backward pass, like the forward one, is one
    reduction plus one gather-and-combine pass (a single loop each under XLA); the
    shifted gradient is never materialised.

    Args:
        images: float (B, H, W, C).
        color: a `ColorAffine`, or None for no color op.
        geometry: a `Geometry`, or None for no translation or cutout.

    Returns:
        The transformed images (`images` itself when both are None).
    """
    if color is None and geometry is None:
        return images
    dtype = images.dtype
    scale = offset = pixel_mix = image_mix = None
    if color is not None:
        scale, offset, pixel_mix, image_mix = (
            None if v is None else _per_sample(v, dtype)
            for v in (color.scale, color.offset, color.pixel_mix, color.image_mix)
        )

    def pointwise(x):
        """scale * x + pixel_mix * mean_c(x)."""
        if pixel_mix is None:
            return x if scale is None else scale * x
        if compiling_with_xla():
            return scale * x + pixel_mix * _channel_mean(x)
        # As kernels, a batched C x C matrix product beats the broadcasts above (2x).
        channels = tf.shape(x)[3]
        matrix = scale[:, 0] * tf.eye(channels, dtype=dtype) + pixel_mix[:, 0] / tf.cast(
            channels, dtype
        )
        pixels = tf.reshape(x, (tf.shape(x)[0], -1, channels))
        return tf.reshape(tf.matmul(pixels, matrix), tf.shape(x))

    @tf.custom_gradient
    def forward(x):
        y = pointwise(x)
        if image_mix is not None:
            y += image_mix * _image_mean(x)
        if offset is not None:
            y += offset
        if geometry is not None:
            y = geometry(y)

        def grad(upstream):
            x_grad = pointwise(upstream)
            if geometry is not None:
                x_grad = geometry.adjoint(x_grad)
            if image_mix is not None:
                seen = upstream
                if geometry is not None:
                    seen *= tf.cast(geometry.kept(), dtype)[..., tf.newaxis]
                x_grad += image_mix * _image_mean(seen)
            return x_grad

        return y, grad

    return forward(images)


def apply_translation(images, translation, config):
    """out[h, w] = x[h + ty, w + tx], zero where the source lies outside the image."""
    return _apply_alone(images, "translation", translation, config)


def apply_cutout(images, cutout, config):
    """Zero rows [cy - c//2, cy - c//2 + c) x columns [cx - c//2, cx - c//2 + c)."""
    return _apply_alone(images, "cutout", cutout, config)


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
        fusion: "color" if the op is a `ColorAffine` method of the same name,
            "geometry" if it is a `Geometry` method of the same name, None otherwise;
            `Policy.apply` composes runs of such ops and applies them with `transform`.
        num_draws: how many `Draw` rows `sample` uses.
    """

    name: str
    sample: Callable
    apply: Callable
    identity: Callable | None
    fusion: str | None = None
    num_draws: int = 1


OPS = {
    op.name: op
    for op in (
        Op("brightness", sample_brightness, apply_brightness, lambda b: tf.zeros((b,)), "color"),
        Op("saturation", sample_saturation, apply_saturation, lambda b: tf.ones((b,)), "color"),
        Op("contrast", sample_contrast, apply_contrast, lambda b: tf.ones((b,)), "color"),
        Op(
            "translation",
            sample_translation,
            apply_translation,
            lambda b: tf.zeros((b, 2), tf.int32),
            "geometry",
            num_draws=2,
        ),
        Op("cutout", sample_cutout, apply_cutout, None, "geometry", num_draws=2),
        Op("flip", sample_flip, apply_flip, lambda b: tf.zeros((b,), tf.bool)),
        Op("rotate90", sample_rotate90, apply_rotate90, lambda b: tf.zeros((b,), tf.int32)),
    )
}

# Policy shorthands, expanded in order.
GROUPS = {"color": ("brightness", "saturation", "contrast")}
