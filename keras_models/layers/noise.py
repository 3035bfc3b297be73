"""Per-pixel noise injection with a learned strength (StyleGAN)."""

from typing import Any

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_models")
class NoiseInjection(keras.layers.Layer):
    """Adds `strength * n` to NHWC features, `n ~ N(0, 1)` of shape (B, H, W, 1).

    The same noise image is shared by all channels, and `strength` (a learned scalar,
    initialised to 0 as in StyleGAN2) sets its amplitude. Noise is drawn in training and
    inference alike (StyleGAN2's `randomize_noise=True`); pass `training` only for Keras
    symmetry. Randomness comes from a `keras.random.SeedGenerator` owned by the layer.

    Args:
        seed: int for a reproducible noise sequence, or None.
        **kwargs: base layer arguments.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.strength = self.add_weight(name="strength", shape=(), initializer="zeros")

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        shape = tf.shape(x)
        noise = keras.random.normal(
            [shape[0], shape[1], shape[2], 1], dtype=x.dtype, seed=self.seed_generator
        )
        return x + noise * tf.cast(self.strength, x.dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}
