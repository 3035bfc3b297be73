"""StyleGAN2's modulated (and demodulated) convolution."""

import math
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from keras_models.layers.equalized import EqualizedDense, bias_act, check_activation
from keras_models.layers.resample import DEFAULT_FILTER, check_taps, upsample_2d

DEMOD_EPSILON = 1e-8


@keras.saving.register_keras_serializable(package="keras_models")
class ModulatedConv2D(keras.layers.Layer):
    """Convolution whose input channels are scaled per sample by a style.

    Called as `layer([x, w])` with `x` (B, H, W, C_in) and `w` (B, w_dim). An affine
    (equalized `Dense`, bias initialised to 1) maps `w` to styles `s` (B, C_in); the
    effective per-sample weights are `w'[k, i, o] = scale * weight[k, i, o] * s[i]`. With
    `demodulate`, each output channel's weights are renormalised to unit L2 norm,
    `w''[.., o] = w'[.., o] / sqrt(sum_{k, i} w'[k, i, o]^2 + 1e-8)`, so that unit-variance
    inputs give unit-variance outputs whatever the style magnitude (this replaces AdaIN).

    The per-sample weights are never materialised: scaling the input activations by `s`
    and the outputs by the demodulation factor is the same computation as a grouped
    convolution with per-sample weights, but runs as one ordinary convolution (fast on
    every device and under XLA).

    With `up=True` the input is first up-sampled 2x with the FIR filter `taps`; the
    reference fuses this into a transposed convolution, which differs only at borders.

    Args:
        filters: output channels.
        kernel_size: odd int (3 for convolutions, 1 for toRGB).
        demodulate: whether to demodulate (False for toRGB).
        up: up-sample 2x before the convolution.
        use_bias: add a bias (toRGB); synthesis layers add theirs after the noise.
        activation: "linear" or "lrelu".
        taps: FIR filter taps used when `up`.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int,
        demodulate: bool = True,
        up: bool = False,
        use_bias: bool = False,
        activation: str = "linear",
        taps: Sequence[float] = DEFAULT_FILTER,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.demodulate = demodulate
        self.up = up
        self.use_bias = use_bias
        self.activation = check_activation(activation)
        self.taps = check_taps(taps)
        self.affine = None

    def build(self, input_shape: Sequence[tuple[int | None, ...]]) -> None:
        x_shape, w_shape = input_shape
        channels = int(x_shape[-1])
        self.affine = EqualizedDense(channels, bias_init=1.0, name="affine")
        self.affine.build(w_shape)
        self.runtime_scale = 1.0 / math.sqrt(self.kernel_size * self.kernel_size * channels)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, inputs: Sequence[tf.Tensor]) -> tf.Tensor:
        x, w = inputs
        styles = self.affine(w)  # (B, C_in)
        kernel = self.kernel * self.runtime_scale
        if self.up:
            x = upsample_2d(x, self.taps)
        x = x * styles[:, None, None, :]
        x = tf.nn.conv2d(x, kernel, 1, "SAME")
        if self.demodulate:
            # sum_{k, i} (W[k, i, o] s[i])^2 = (s^2) @ sum_k W[k, :, o]^2
            squared = tf.matmul(tf.square(styles), tf.reduce_sum(tf.square(kernel), axis=[0, 1]))
            x = x * tf.math.rsqrt(squared + DEMOD_EPSILON)[:, None, None, :]
        return bias_act(x, self.bias, self.activation)

    def compute_output_shape(
        self, input_shape: Sequence[tuple[int | None, ...]]
    ) -> tuple[int | None, ...]:
        b, h, w, _ = input_shape[0]
        if self.up:
            h, w = (None if s is None else 2 * s for s in (h, w))
        return (b, h, w, self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "demodulate": self.demodulate,
            "up": self.up,
            "use_bias": self.use_bias,
            "activation": self.activation,
            "taps": self.taps,
        }
