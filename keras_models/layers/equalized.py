"""Equalized-learning-rate Dense and Conv2D layers (Karras et al., ProGAN/StyleGAN).

Weights are stored with a unit-variance (`1 / lrmul` std) initialisation and multiplied
at run time by `runtime_scale = lrmul / sqrt(fan_in)` (He's constant), so that Adam's
per-parameter step sizes are the same for every layer. `lrmul < 1` (the mapping network
uses 0.01) slows a layer's effective learning rate by that factor; biases are scaled by
`lrmul` too.
"""

import math
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from keras_models.layers.resample import DEFAULT_FILTER, check_taps, fir_filter

ACTIVATIONS = ("linear", "lrelu")
LRELU_SLOPE = 0.2
# StyleGAN's leaky ReLU is followed by this gain so that activations keep unit variance.
LRELU_GAIN = math.sqrt(2.0)


def bias_act(x: tf.Tensor, bias: tf.Tensor | None = None, activation: str = "linear") -> tf.Tensor:
    """Adds `bias` (broadcast over the last axis) and applies `activation`.

    `"lrelu"` is leaky ReLU with slope 0.2 times sqrt(2), StyleGAN's fused bias-act.

    Args:
        x: the pre-activations.
        bias: (C,) bias, cast to `x`'s dtype, or None.
        activation: one of `ACTIVATIONS`.

    Returns:
        The activations, in `x`'s dtype.
    """
    if bias is not None:
        x = x + tf.cast(bias, x.dtype)
    if activation == "lrelu":
        x = tf.nn.leaky_relu(x, LRELU_SLOPE) * tf.cast(LRELU_GAIN, x.dtype)
    return x


def check_activation(activation: str) -> str:
    """Returns `activation` if it is one of `ACTIVATIONS`, else raises `ValueError`."""
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"`activation` must be one of {ACTIVATIONS}. Received: activation={activation!r}"
        )
    return activation


@keras.saving.register_keras_serializable(package="keras_models")
class EqualizedDense(keras.layers.Layer):
    """Fully connected layer with an equalized learning rate.

    Args:
        units: output features.
        lrmul: learning-rate multiplier (0.01 in StyleGAN's mapping network).
        use_bias: whether to add a bias.
        bias_init: initial value of the (effective) bias; 1.0 for style affines.
        activation: "linear" or "lrelu" (leaky ReLU 0.2 with gain sqrt(2)).
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        units: int,
        lrmul: float = 1.0,
        use_bias: bool = True,
        bias_init: float = 0.0,
        activation: str = "linear",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.lrmul = float(lrmul)
        self.use_bias = use_bias
        self.bias_init = float(bias_init)
        self.activation = check_activation(activation)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        fan_in = int(input_shape[-1])
        self.runtime_scale = self.lrmul / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(fan_in, self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lrmul),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=keras.initializers.Constant(self.bias_init / self.lrmul),
            )

    def call(self, x: tf.Tensor) -> tf.Tensor:
        x = tf.matmul(x, self.kernel * self.runtime_scale)
        bias = None if self.bias is None else self.bias * self.lrmul
        return bias_act(x, bias, self.activation)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "lrmul": self.lrmul,
            "use_bias": self.use_bias,
            "bias_init": self.bias_init,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable(package="keras_models")
class EqualizedConv2D(keras.layers.Layer):
    """Square NHWC convolution with an equalized learning rate and optional 2x FIR
    down-sampling ("same" padding otherwise).

    With `down=True` the input is low-pass filtered with `taps` and the convolution has
    stride 2, as in StyleGAN2's discriminator: output side = input side / 2.

    Args:
        filters: output channels.
        kernel_size: odd int.
        lrmul: learning-rate multiplier.
        use_bias: whether to add a bias.
        activation: "linear" or "lrelu".
        down: halve the resolution.
        taps: FIR filter taps used when `down`.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        lrmul: float = 1.0,
        use_bias: bool = True,
        activation: str = "linear",
        down: bool = False,
        taps: Sequence[float] = DEFAULT_FILTER,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.lrmul = float(lrmul)
        self.use_bias = use_bias
        self.activation = check_activation(activation)
        self.down = down
        self.taps = check_taps(taps)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        fan_in = self.kernel_size * self.kernel_size * int(input_shape[-1])
        self.runtime_scale = self.lrmul / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lrmul),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x: tf.Tensor) -> tf.Tensor:
        kernel = self.kernel * self.runtime_scale
        if self.down:
            # Reference upfirdn padding: filter + strided VALID conv gives side / 2.
            p = len(self.taps) - 2 + self.kernel_size - 1
            x = fir_filter(x, self.taps, pad=((p + 1) // 2, p // 2))
            x = tf.nn.conv2d(x, kernel, 2, "VALID")
        else:
            x = tf.nn.conv2d(x, kernel, 1, "SAME")
        bias = None if self.bias is None else self.bias * self.lrmul
        return bias_act(x, bias, self.activation)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        b, h, w, _ = input_shape
        if self.down:
            h, w = (None if s is None else s // 2 for s in (h, w))
        return (b, h, w, self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "lrmul": self.lrmul,
            "use_bias": self.use_bias,
            "activation": self.activation,
            "down": self.down,
            "taps": self.taps,
        }
