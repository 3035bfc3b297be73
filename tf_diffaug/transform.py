"""`transform`: a color map then a masked shift, one pass forward and one backward.

The only module that touches pixels for the fused ops. It applies a `color.ColorAffine`
followed by a `geometry.Geometry` with a hand-written gradient: the adjoint of a shift is
the opposite shift, so the backward pass is a gather too, never a scatter.

XLA fuses elementwise work into a few loops, while TensorFlow's graph executor and eager
mode run every op as its own kernel, and the fastest formulation differs between the two
(see `benchmarks/augment_bench.py`). Each step that differs has its two formulations
side by side below (`_xla` and `_kernels`); `compiling_with_xla` picks one at trace time.
Both compute the same values.
"""

from collections.abc import Callable

import tensorflow as tf

from tf_diffaug.color import ColorAffine
from tf_diffaug.geometry import Geometry

try:  # private: TensorFlow has no public way to ask whether a trace is for XLA
    from tensorflow.python.framework import ops as _framework_ops
    from tensorflow.python.ops import control_flow_util as _control_flow_util
except ImportError:
    _control_flow_util = None


def compiling_with_xla() -> bool:
    """Whether ops are being traced for XLA (`jit_compile=True`, TPU)."""
    if _control_flow_util is None:
        return True  # the XLA formulation is correct everywhere
    return _control_flow_util.GraphOrParentsInXlaContext(_framework_ops.get_default_graph())


def _per_sample(values: tf.Tensor, dtype: tf.DType) -> tf.Tensor:
    return tf.reshape(tf.cast(values, dtype), (-1, 1, 1, 1))


def _image_mean(x: tf.Tensor) -> tf.Tensor:
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


# --- scale * x + pixel_mix * mean_c(x), within each pixel ---------------------------


def _pointwise_xla(x: tf.Tensor, scale: tf.Tensor, pixel_mix: tf.Tensor) -> tf.Tensor:
    """Broadcasts; the channel mean is a sum of channel slices, which XLA fuses into the
    elementwise pass, where a reduction over a minor axis of 3 is its own slow loop."""
    channels = x.shape[3]
    if channels is None:
        channel_mean = tf.reduce_mean(x, axis=3, keepdims=True)
    else:
        channel_mean = tf.add_n([x[..., c : c + 1] for c in range(channels)]) * (1.0 / channels)
    return scale * x + pixel_mix * channel_mean


def _pointwise_kernels(x: tf.Tensor, scale: tf.Tensor, pixel_mix: tf.Tensor) -> tf.Tensor:
    """A batched C x C matrix product, which as kernels beats the broadcasts (2x)."""
    channels = tf.shape(x)[3]
    matrix = scale[:, 0] * tf.eye(channels, dtype=x.dtype) + pixel_mix[:, 0] / tf.cast(
        channels, x.dtype
    )
    pixels = tf.reshape(x, (tf.shape(x)[0], -1, channels))
    return tf.reshape(tf.matmul(pixels, matrix), tf.shape(x))


def _pointwise(x: tf.Tensor, scale: tf.Tensor | None, pixel_mix: tf.Tensor | None) -> tf.Tensor:
    if pixel_mix is None:
        return x if scale is None else scale * x
    if compiling_with_xla():
        return _pointwise_xla(x, scale, pixel_mix)
    return _pointwise_kernels(x, scale, pixel_mix)


# --- out[b, q] = images[b, q + shift[b]] where kept[b, q], else 0 -------------------


def _source_rows_cols(
    height: tf.Tensor, width: tf.Tensor, shift: tf.Tensor | None
) -> tuple[tf.Tensor, tf.Tensor]:
    """(1 or B, H) source rows and (1 or B, W) source columns of a shift (None: none)."""
    rows = tf.range(height)[tf.newaxis, :]
    cols = tf.range(width)[tf.newaxis, :]
    if shift is None:
        return rows, cols
    return rows + shift[:, 0:1], cols + shift[:, 1:2]


def _masked_gather_xla(images: tf.Tensor, shift: tf.Tensor | None, kept: tf.Tensor) -> tf.Tensor:
    """A clipped gather over the flattened H*W axis times the mask: XLA fuses both into
    the loop that produces their consumer."""
    if shift is not None:
        shape = tf.shape(images)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        rows, cols = _source_rows_cols(height, width, shift)
        rows, cols = tf.clip_by_value(rows, 0, height - 1), tf.clip_by_value(cols, 0, width - 1)
        source = rows[:, :, tf.newaxis] * width + cols[:, tf.newaxis, :]
        flat = tf.reshape(images, (batch, height * width, channels))
        gathered = tf.gather(flat, tf.reshape(source, (batch, -1)), axis=1, batch_dims=1)
        images = tf.reshape(gathered, shape)
    return images * tf.cast(kept, images.dtype)[..., tf.newaxis]


def _masked_gather_kernels(
    images: tf.Tensor, shift: tf.Tensor | None, kept: tf.Tensor
) -> tf.Tensor:
    """One gather of whole pixels from a table with a zero pixel appended, which dropped
    pixels point to: no mask multiply, whose broadcast over channels is slow as a kernel."""
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    rows, cols = _source_rows_cols(height, width, shift)
    pixels = batch * height * width
    first = tf.range(batch)[:, tf.newaxis, tf.newaxis] * (height * width)
    source = first + rows[:, :, tf.newaxis] * width + cols[:, tf.newaxis, :]
    source = tf.where(kept, source, pixels)
    table = tf.concat(
        [tf.reshape(images, (pixels, channels)), tf.zeros((1, channels), images.dtype)], axis=0
    )
    return tf.reshape(tf.gather(table, source), shape)


def _masked_gather(images: tf.Tensor, shift: tf.Tensor | None, kept: tf.Tensor) -> tf.Tensor:
    if compiling_with_xla():
        return _masked_gather_xla(images, shift, kept)
    return _masked_gather_kernels(images, shift, kept)


# --- the fused transform ------------------------------------------------------------


def transform(
    images: tf.Tensor, color: ColorAffine | None = None, geometry: Geometry | None = None
) -> tf.Tensor:
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

    @tf.custom_gradient
    def forward(x: tf.Tensor) -> tuple[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]]:
        y = _pointwise(x, scale, pixel_mix)
        if image_mix is not None:
            y += image_mix * _image_mean(x)
        if offset is not None:
            y += offset
        if geometry is not None:
            y = _masked_gather(y, *geometry.forward())

        def grad(upstream: tf.Tensor) -> tf.Tensor:
            x_grad = _pointwise(upstream, scale, pixel_mix)
            if geometry is not None:
                x_grad = _masked_gather(x_grad, *geometry.transposed())
            if image_mix is not None:
                seen = upstream
                if geometry is not None:
                    _, kept = geometry.forward()
                    seen *= tf.cast(kept, dtype)[..., tf.newaxis]
                x_grad += image_mix * _image_mean(seen)
            return x_grad

        return y, grad

    return forward(images)
