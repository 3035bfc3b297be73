"""Minibatch standard deviation layer (Karras et al., ProGAN; StyleGAN2 variant)."""

from typing import Any

import keras
import tensorflow as tf

EPSILON = 1e-8


def group_size_for(batch_size: int | tf.Tensor, group_size: int) -> int | tf.Tensor:
    """The largest divisor of `batch_size` not above `group_size`.

    Works on Python ints (static batch) and on int tensors (dynamic batch).

    Args:
        batch_size: the batch size, a Python int or an int scalar tensor.
        group_size: the largest group wanted.

    Returns:
        The group size, of the type of `batch_size`.
    """
    if isinstance(batch_size, int):
        return max(g for g in range(1, min(group_size, batch_size) + 1) if batch_size % g == 0)
    candidates = tf.range(1, group_size + 1, dtype=batch_size.dtype)
    divides = tf.equal(batch_size % candidates, 0)
    return tf.reduce_max(tf.where(divides, candidates, tf.ones_like(candidates)))


@keras.saving.register_keras_serializable(package="keras_models")
class MinibatchStdDev(keras.layers.Layer):
    """Appends `num_features` channels holding the features' spread across a group.

    The batch is split into groups of `G` samples, where sample `b` belongs to group
    `b mod (B / G)` (the reference's strided grouping). For each group the standard
    deviation over its `G` samples of every feature, pixel and channel is computed,
    averaged over pixels and over the channels of each of `num_features` channel groups,
    and broadcast back as extra feature maps to each sample of the group.

    `G` is `group_size`, or when the batch size `B` is not divisible by it, the largest
    divisor of `B` below it (e.g. 3 for a batch of 6 with `group_size=4`): the reference
    requires divisibility, and with distribution the per-replica batch often breaks it.
    Statistics are computed in float32 under mixed precision.

    Args:
        group_size: samples per group (4 in StyleGAN2).
        num_features: channel groups, i.e. number of new feature maps (1 in StyleGAN2).
        **kwargs: base layer arguments.
    """

    def __init__(self, group_size: int = 4, num_features: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group_size = int(group_size)
        self.num_features = int(num_features)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = int(input_shape[-1])
        if channels % self.num_features:
            raise ValueError(
                "The channels must be divisible by `num_features`. Received: "
                f"channels={channels}, num_features={self.num_features}"
            )

    def call(self, x: tf.Tensor) -> tf.Tensor:
        b, h, w, c = x.shape
        dynamic = tf.shape(x)
        b = b if b is not None else dynamic[0]
        h, w = (s if s is not None else dynamic[i] for i, s in ((1, h), (2, w)))
        g = group_size_for(b, self.group_size)
        n = self.num_features
        y = tf.reshape(tf.cast(x, "float32"), [g, -1, h, w, n, c // n])  # (G, M, H, W, n, c)
        y = y - tf.reduce_mean(y, axis=0, keepdims=True)
        y = tf.sqrt(tf.reduce_mean(tf.square(y), axis=0) + EPSILON)  # (M, H, W, n, c)
        y = tf.reduce_mean(y, axis=[1, 2, 4])  # (M, n)
        y = tf.tile(tf.cast(y, x.dtype)[:, None, None, :], [g, h, w, 1])  # (B, H, W, n)
        return tf.concat([x, y], axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], input_shape[-1] + self.num_features)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "group_size": self.group_size,
            "num_features": self.num_features,
        }
