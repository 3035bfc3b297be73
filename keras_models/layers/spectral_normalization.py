"""Spectrally normalized Dense, Conv2D and Embedding layers (Miyato et al., 2018).

Each layer keeps its raw kernel `W` as the trainable weight and uses `W / sigma(W)` in every
call, where `sigma` is the largest singular value of `W` reshaped to (fan_in, units),
estimated by power iteration from a persistent vector `u`. This is the parameterisation of
the SN-GAN paper, BigGAN-PyTorch and compare_gan: gradients flow through `sigma` (with `u`
and `v` held constant), and inference calls use the normalized kernel too.

`epsilon` is where BigGAN-PyTorch's layers.py puts it: only in the normalisation of `v` and
`u`, `x / max(||x||, epsilon)` (torch's `F.normalize`); `sigma` itself is not floored. The
default is the `--SN_eps` of the BigGAN scripts (BigGAN-PyTorch and DiffAugment utils.py).

A layer with `trainable = False` (e.g. frozen for fine-tuning) does not update `u` even in
training calls, as Keras's BatchNormalization stops updating its statistics: it computes a
fixed function.

Why not `keras.layers.SpectralNormalization`: that wrapper *assigns* `W / sigma` back to the
trainable kernel at each training call and then uses the kernel as a plain weight, so (1)
the gradient ignores `sigma`'s dependence on `W` (it is not orthogonal to `W`, unlike true
SN's, see tests/keras_models/layers/test_spectral_normalization.py), and (2) calls with
`training=False`, e.g. sampling from an EMA generator, use the un-normalized kernel the
optimizer last wrote.
"""

from typing import Any

import keras
import tensorflow as tf
from keras import ops

# `--SN_eps` of BigGAN-PyTorch's and DiffAugment-biggan-cifar's utils.py.
DEFAULT_EPSILON = 1e-8

# The mixin only ever sits in front of a Keras layer, whose attributes (`add_weight`,
# `trainable`, `get_config`) it uses: to a type checker its base is any class.
_LayerMixin: Any = object


class _SpectralNorm(_LayerMixin):
    """Mixin: power-iteration state and the normalized kernel for a layer with `kernel`."""

    def _init_spectral_norm(self, power_iterations: int, epsilon: float) -> None:
        if power_iterations < 1:
            raise ValueError(
                "`power_iterations` must be a positive integer. "
                f"Received: power_iterations={power_iterations}"
            )
        self.power_iterations = power_iterations
        self.epsilon = epsilon

    def _build_spectral_norm(self, kernel: keras.Variable) -> None:
        self.sn_u = self.add_weight(
            name="sn_u",
            shape=(1, kernel.shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            autocast=False,
        )

    def _l2_normalize(self, x: tf.Tensor) -> tf.Tensor:
        return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x))), self.epsilon)

    def normalized_kernel(self, kernel: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Returns `kernel / sigma(kernel)`; updates the stored `u` when `training` (and
        the layer is trainable).

        Args:
            kernel: the layer's kernel as read in `call` (possibly autocast).
            training: whether to store the refined singular vector estimate.

        Returns:
            The normalized kernel, in `kernel`'s dtype.
        """
        # Power iteration in float32, even under a mixed-precision policy.
        w = ops.reshape(ops.cast(kernel, "float32"), (-1, kernel.shape[-1]))
        u = self.sn_u.value
        for _ in range(self.power_iterations):
            v = self._l2_normalize(ops.matmul(u, ops.transpose(w)))
            u = self._l2_normalize(ops.matmul(v, w))
        u = ops.stop_gradient(u)
        v = ops.stop_gradient(v)
        # A frozen layer keeps its estimate, as a frozen BatchNormalization its statistics.
        if training and self.trainable:
            self.sn_u.assign(u)
        sigma = ops.sum(ops.matmul(v, w) * u)  # >= 0: u is v @ w normalized
        # Only an all-zero kernel (e.g. zeros initializer) has sigma 0, where the reference's
        # W / sigma is 0 / 0: it stays zero instead of NaN.
        sigma = ops.where(sigma > 0, sigma, 1.0)
        return ops.cast(ops.cast(kernel, "float32") / sigma, kernel.dtype)

    # Dense, Conv and Embedding save only kernel and bias (their quantization-aware format),
    # which would drop `sn_u`; the base Layer format saves every variable of the layer.
    def save_own_variables(self, store: dict[str, Any]) -> None:
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store: dict[str, Any]) -> None:
        keras.layers.Layer.load_own_variables(self, store)

    def get_config(self) -> dict[str, Any]:
        # The mixin comes first in each layer's bases: super() is the Keras layer's config.
        return {
            **super().get_config(),
            "power_iterations": self.power_iterations,
            "epsilon": self.epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_models")
class SNDense(_SpectralNorm, keras.layers.Dense):
    """`keras.layers.Dense` whose kernel is divided by its spectral norm.

    Args:
        units: output size.
        power_iterations: power-iteration steps per call (BigGAN uses 1).
        epsilon: floor on the norms of `u` and `v` in the power iteration.
        **kwargs: `keras.layers.Dense` arguments.
    """

    def __init__(
        self,
        units: int,
        power_iterations: int = 1,
        epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, **kwargs)
        self._init_spectral_norm(power_iterations, epsilon)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        super().build(input_shape)
        self._build_spectral_norm(self.kernel)

    def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
        outputs = ops.matmul(inputs, self.normalized_kernel(self.kernel, training))
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@keras.saving.register_keras_serializable(package="keras_models")
class SNConv2D(_SpectralNorm, keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose kernel is divided by its spectral norm.

    The kernel (kh, kw, in, out) is normalized as the (kh * kw * in, out) matrix, as in the
    SN-GAN paper.

    Args:
        filters: output channels.
        kernel_size: int or pair.
        power_iterations: power-iteration steps per call (BigGAN uses 1).
        epsilon: floor on the norms of `u` and `v` in the power iteration.
        **kwargs: `keras.layers.Conv2D` arguments.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        power_iterations: int = 1,
        epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(filters, kernel_size, **kwargs)
        self._init_spectral_norm(power_iterations, epsilon)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        super().build(input_shape)
        self._build_spectral_norm(self.kernel)

    def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
        outputs = self.convolution_op(inputs, self.normalized_kernel(self.kernel, training))
        if self.use_bias:
            bias_shape = (
                (1, 1, 1, self.filters)
                if self.data_format == "channels_last"
                else (1, self.filters, 1, 1)
            )
            outputs = ops.add(outputs, ops.reshape(self.bias, bias_shape))
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


@keras.saving.register_keras_serializable(package="keras_models")
class SNEmbedding(_SpectralNorm, keras.layers.Embedding):
    """`keras.layers.Embedding` whose (input_dim, output_dim) table is spectrally normalized.

    Args:
        input_dim: vocabulary (number of classes).
        output_dim: embedding size.
        power_iterations: power-iteration steps per call (BigGAN uses 1).
        epsilon: floor on the norms of `u` and `v` in the power iteration.
        **kwargs: `keras.layers.Embedding` arguments.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        power_iterations: int = 1,
        epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(input_dim, output_dim, **kwargs)
        self._init_spectral_norm(power_iterations, epsilon)

    def build(self, input_shape: tuple[int | None, ...] | None = None) -> None:
        super().build(input_shape)
        self._build_spectral_norm(self.embeddings)

    def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
        table = self.normalized_kernel(self.embeddings, training)
        outputs = ops.take(table, ops.cast(inputs, "int32"), axis=0)
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_spec(
        self, inputs: keras.KerasTensor, training: bool = False
    ) -> keras.KerasTensor:
        return super().compute_output_spec(inputs)
