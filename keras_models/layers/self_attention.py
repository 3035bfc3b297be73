"""SAGAN self-attention as BigGAN uses it: pooled keys/values, zero-initialised gate."""

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_models.layers.initializer_utils import initializer_config
from keras_models.layers.spectral_normalization import DEFAULT_EPSILON, SNConv2D


@keras.saving.register_keras_serializable(package="keras_models")
class SelfAttention(keras.layers.Layer):
    """Non-local block of SAGAN (Zhang et al., 2019) in BigGAN's variant.

    With C input channels: queries `theta` (C/8), keys `phi` (C/8) and values `g` (C/2) are
    spectrally normalized 1x1 convolutions without bias; keys and values are 2x2 max-pooled,
    which cuts the attention matrix to (HW, HW/4). The attended values go through a 1x1
    convolution `o` back to C channels and are added to the input, scaled by a learned
    scalar `gamma` initialised to 0, so a new block starts as the identity.

    Args:
        kernel_initializer: initializer of the four convolutions.
        sn_epsilon: epsilon of their spectral normalization (see `SNConv2D`).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: (B, H, W, C) with even H, W and C >= 8.
        training: passed to the spectral normalization (updates its power iteration).
    """

    def __init__(
        self,
        kernel_initializer: Any = "orthogonal",
        sn_epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.sn_epsilon = sn_epsilon

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _, height, width, channels = input_shape
        if channels is None or channels < 8 or height % 2 or width % 2:
            raise ValueError(
                "SelfAttention expects inputs (B, H, W, C) with even H and W and C >= 8. "
                f"Received: input_shape={input_shape}"
            )

        def conv(filters: int, name: str) -> SNConv2D:
            return SNConv2D(
                filters,
                1,
                use_bias=False,
                kernel_initializer=self.kernel_initializer,
                epsilon=self.sn_epsilon,
                name=name,
                dtype=self.dtype_policy,
            )

        self.theta = conv(channels // 8, "theta")
        self.phi = conv(channels // 8, "phi")
        self.g = conv(channels // 2, "g")
        self.o = conv(channels, "o")
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.o.build((None, height, width, channels // 2))
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        _, height, width, channels = inputs.shape
        pool = lambda t: ops.max_pool(t, pool_size=2, strides=2)
        theta = ops.reshape(
            self.theta(inputs, training=training), (-1, height * width, channels // 8)
        )
        phi = ops.reshape(
            pool(self.phi(inputs, training=training)), (-1, height * width // 4, channels // 8)
        )
        g = ops.reshape(
            pool(self.g(inputs, training=training)), (-1, height * width // 4, channels // 2)
        )
        # Softmax in float32: attention logits overflow float16 at large C.
        logits = ops.matmul(theta, ops.transpose(phi, (0, 2, 1)))
        attention = ops.cast(ops.softmax(ops.cast(logits, "float32"), axis=-1), inputs.dtype)
        attended = ops.reshape(ops.matmul(attention, g), (-1, height, width, channels // 2))
        return inputs + ops.cast(self.gamma, inputs.dtype) * self.o(attended, training=training)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "kernel_initializer": self.kernel_initializer,
            "sn_epsilon": self.sn_epsilon,
        }
