"""A straightforward op-by-op port of the paper's TensorFlow DiffAugment, the baseline.

It follows the reference code's approach (mit-han-lab/data-efficient-gans,
`DiffAugment_tf.py`): translation pads the image and gathers rows, then transposes and
gathers columns with `gather_nd`; cutout builds the square's indices with a meshgrid and
zeroes them through `scatter_nd`. Parameters are passed in (same dict as
`tf_diffaug.DiffAugment.get_random_transformation`) so that both implementations do
exactly the same work in the benchmark, and `tests/benchmarks/test_reference_port.py`
checks that the two agree.
"""

import tensorflow as tf


def _per_sample(values):
    return tf.reshape(values, (-1, 1, 1, 1))


def brightness(x, b):
    return x + _per_sample(b)


def saturation(x, s):
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    return (x - mean) * _per_sample(s) + mean


def contrast(x, c):
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * _per_sample(c) + mean


def translation(x, t):
    height, width = tf.shape(x)[1], tf.shape(x)[2]
    rows = tf.clip_by_value(tf.range(height)[None, :] + t[:, 0:1] + 1, 0, height + 1)
    cols = tf.clip_by_value(tf.range(width)[None, :] + t[:, 1:2] + 1, 0, width + 1)
    padded = tf.pad(x, [[0, 0], [1, 1], [0, 0], [0, 0]])
    x = tf.gather_nd(padded, rows[..., None], batch_dims=1)
    x = tf.transpose(x, [0, 2, 1, 3])
    padded = tf.pad(x, [[0, 0], [1, 1], [0, 0], [0, 0]])
    x = tf.gather_nd(padded, cols[..., None], batch_dims=1)
    return tf.transpose(x, [0, 2, 1, 3])


def cutout(x, centers, ratio=0.5):
    batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    size_h = tf.cast(tf.cast(height, tf.float32) * ratio + 0.5, tf.int32)
    size_w = tf.cast(tf.cast(width, tf.float32) * ratio + 0.5, tf.int32)
    grid_b, grid_y, grid_x = tf.meshgrid(
        tf.range(batch), tf.range(size_h), tf.range(size_w), indexing="ij"
    )
    grid = tf.stack(
        [
            grid_b,
            grid_y + tf.reshape(centers[:, 0], (-1, 1, 1)) - size_h // 2,
            grid_x + tf.reshape(centers[:, 1], (-1, 1, 1)) - size_w // 2,
        ],
        axis=-1,
    )
    mask_shape = tf.stack([batch, height, width])
    grid = tf.minimum(tf.maximum(grid, 0), tf.reshape(mask_shape - 1, [1, 1, 1, 3]))
    ones = tf.ones([batch, size_h, size_w], x.dtype)
    mask = tf.maximum(1 - tf.scatter_nd(grid, ones, mask_shape), 0)
    return x * mask[..., None]


OPS = {
    "brightness": brightness,
    "saturation": saturation,
    "contrast": contrast,
    "translation": translation,
    "cutout": cutout,
}


def augment(x, params, policy=("brightness", "saturation", "contrast", "translation", "cutout")):
    """Applies the reference ops in order with the given parameters."""
    for name in policy:
        x = OPS[name](x, params[name])
    return x


def sample(x, translation_ratio=0.125, cutout_ratio=0.5):
    """Draws parameters with stateful `tf.random` ops, as the paper's code does."""
    batch, height, width = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    shift_h = tf.cast(tf.cast(height, tf.float32) * translation_ratio + 0.5, tf.int32)
    shift_w = tf.cast(tf.cast(width, tf.float32) * translation_ratio + 0.5, tf.int32)
    size_h = tf.cast(tf.cast(height, tf.float32) * cutout_ratio + 0.5, tf.int32)
    size_w = tf.cast(tf.cast(width, tf.float32) * cutout_ratio + 0.5, tf.int32)
    randint = lambda low, high: tf.random.uniform([batch], low, high, dtype=tf.int32)
    return {
        "brightness": tf.random.uniform([batch]) - 0.5,
        "saturation": tf.random.uniform([batch]) * 2,
        "contrast": tf.random.uniform([batch]) + 0.5,
        "translation": tf.stack(
            [randint(-shift_h, shift_h + 1), randint(-shift_w, shift_w + 1)], 1
        ),
        "cutout": tf.stack(
            [randint(0, height + (1 - size_h % 2)), randint(0, width + (1 - size_w % 2))], 1
        ),
    }
