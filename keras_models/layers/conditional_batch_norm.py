"""Class-conditional batch normalization as BigGAN defines it."""

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_models.layers.initializer_utils import initializer_config
from keras_models.layers.spectral_normalization import DEFAULT_EPSILON, SNDense


@keras.saving.register_keras_serializable(package="keras_models")
class ConditionalBatchNormalization(keras.layers.Layer):
    """Batch normalization whose per-channel gain and bias are functions of a condition.

    `y = BN(x) * (1 + gain(c)) + bias(c)`, where `BN` has no affine parameters and `gain`,
    `bias` are linear maps without bias of the condition vector `c` (BigGAN: the shared
    class embedding concatenated with a chunk of z). The `1 +` makes a zero-initialised or
    small `gain` start from the identity. With a one-hot `c` and `spectral_norm=False` the
    linear maps are exactly per-class embedding tables (BigGAN without a shared embedding).

    Args:
        momentum: moving-statistics momentum (BigGAN-PyTorch's 0.1 is Keras's 0.9).
        epsilon: variance epsilon.
        spectral_norm: spectrally normalize the gain and bias projections.
        kernel_initializer: initializer of the projections.
        sn_epsilon: epsilon of their spectral normalization (see `SNDense`).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `[x, condition]`, x of shape (B, H, W, C) and condition of shape (B, D).
        training: use batch statistics and update the moving ones.
    """

    def __init__(
        self,
        momentum: float = 0.9,
        epsilon: float = 1e-5,
        spectral_norm: bool = True,
        kernel_initializer: Any = "orthogonal",
        sn_epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon
        self.spectral_norm = spectral_norm
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.sn_epsilon = sn_epsilon
        self.norm = keras.layers.BatchNormalization(
            momentum=momentum,
            epsilon=epsilon,
            center=False,
            scale=False,
            name="norm",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape: Sequence[tuple[int | None, ...]]) -> None:
        x_shape, condition_shape = input_shape
        channels = x_shape[-1]

        def dense(name: str) -> keras.layers.Dense:
            options = dict(
                use_bias=False,
                kernel_initializer=self.kernel_initializer,
                name=name,
                dtype=self.dtype_policy,
            )
            if self.spectral_norm:
                return SNDense(channels, epsilon=self.sn_epsilon, **options)
            return keras.layers.Dense(channels, **options)

        self.gain = dense("gain")
        self.bias = dense("bias")
        self.norm.build(x_shape)
        self.gain.build(condition_shape)
        self.bias.build(condition_shape)

    def call(self, inputs: Sequence[tf.Tensor], training: bool | None = None) -> tf.Tensor:
        x, condition = inputs
        gain = ops.cast(self.gain(condition, training=training), x.dtype)
        bias = ops.cast(self.bias(condition, training=training), x.dtype)
        y = self.norm(x, training=training)
        return y * (1.0 + gain[:, None, None, :]) + bias[:, None, None, :]

    def compute_output_shape(
        self, input_shape: Sequence[tuple[int | None, ...]]
    ) -> tuple[int | None, ...]:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "spectral_norm": self.spectral_norm,
            "kernel_initializer": self.kernel_initializer,
            "sn_epsilon": self.sn_epsilon,
        }
