"""BigGAN residual blocks (Brock et al., 2019, Figure 15 (b), (c))."""

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_models.layers.conditional_batch_norm import ConditionalBatchNormalization
from keras_models.layers.initializer_utils import initializer_config
from keras_models.layers.spectral_normalization import DEFAULT_EPSILON, SNConv2D


def _conv(parent, filters, kernel_size, name):
    """A "same" SN convolution with the initializer, SN epsilon and dtype of block `parent`."""
    return SNConv2D(
        filters,
        kernel_size,
        padding="same",
        kernel_initializer=parent.kernel_initializer,
        epsilon=parent.sn_epsilon,
        name=name,
        dtype=parent.dtype_policy,
    )


def _preactivation_relu(x):
    """ReLU of a D block's input, as a select: the values and gradients of `ops.relu`.

    The input of a pre-activated block is a residual sum that the shortcut reads too. Fed
    to `Relu`, that sum matches the conv + bias + add + ReLU fusion of TensorFlow's oneDNN
    Grappler remapper, which deletes the sum although the shortcut still reads it: the
    remapper fails ("remapper failed: ... fanout ... exist for missing node .../add") and
    drops every fusion of the graph. A select is no fusable activation, so the remapper
    fuses conv + bias + add into the sum instead.
    """
    return ops.where(x > 0, x, 0.0)


@keras.saving.register_keras_serializable(package="keras_models.biggan")
class GeneratorBlock(keras.layers.Layer):
    """Up-block: BN-ReLU-up-conv3x3-BN-ReLU-conv3x3 plus a (up, conv1x1) shortcut.

    Args:
        filters: output channels.
        conditional: use `ConditionalBatchNormalization` driven by a condition vector;
            otherwise plain batch normalization with learned gain and bias.
        condition_spectral_norm: spectrally normalize the conditional BN projections.
        kernel_initializer: initializer of every kernel.
        bn_momentum: batch-norm momentum (Keras convention).
        bn_epsilon: batch-norm epsilon.
        sn_epsilon: spectral-norm epsilon of every convolution and projection.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: (B, H, W, C_in).
        condition: (B, D) when `conditional`, else None.
        training: batch statistics, spectral-norm updates.
    """

    def __init__(
        self,
        filters: int,
        conditional: bool = True,
        condition_spectral_norm: bool = True,
        kernel_initializer: Any = "orthogonal",
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        sn_epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = filters
        self.conditional = conditional
        self.condition_spectral_norm = condition_spectral_norm
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.bn_momentum = bn_momentum
        self.bn_epsilon = bn_epsilon
        self.sn_epsilon = sn_epsilon

        def norm(name):
            if conditional:
                return ConditionalBatchNormalization(
                    momentum=bn_momentum,
                    epsilon=bn_epsilon,
                    spectral_norm=condition_spectral_norm,
                    kernel_initializer=self.kernel_initializer,
                    sn_epsilon=sn_epsilon,
                    name=name,
                    dtype=self.dtype_policy,
                )
            return keras.layers.BatchNormalization(
                momentum=bn_momentum, epsilon=bn_epsilon, name=name, dtype=self.dtype_policy
            )

        self.bn1 = norm("bn1")
        self.conv1 = _conv(self, filters, 3, "conv1")
        self.bn2 = norm("bn2")
        self.conv2 = _conv(self, filters, 3, "conv2")
        self.shortcut = _conv(self, filters, 1, "shortcut")
        self.upsample = keras.layers.UpSampling2D(2, name="upsample", dtype=self.dtype_policy)

    def _norm(self, layer, x, condition, training):
        if self.conditional:
            return layer([x, condition], training=training)
        return layer(x, training=training)

    def call(
        self, inputs: tf.Tensor, condition: tf.Tensor | None = None, training: bool | None = None
    ) -> tf.Tensor:
        h = ops.relu(self._norm(self.bn1, inputs, condition, training))
        h = self.conv1(self.upsample(h), training=training)
        h = ops.relu(self._norm(self.bn2, h, condition, training))
        h = self.conv2(h, training=training)
        return h + self.shortcut(self.upsample(inputs), training=training)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "conditional": self.conditional,
            "condition_spectral_norm": self.condition_spectral_norm,
            "kernel_initializer": self.kernel_initializer,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "sn_epsilon": self.sn_epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_models.biggan")
class DiscriminatorBlock(keras.layers.Layer):
    """Down-block: ReLU-conv3x3-ReLU-conv3x3-pool plus a learned shortcut when needed.

    The first block of D is the "optimized" block of SN-GAN: no ReLU on the input image and
    a shortcut that pools before its 1x1 conv (cheaper, and the same map since both are
    linear). Later blocks convolve then pool. The shortcut conv exists only when channels
    change or the block downsamples; otherwise it is the identity.

    Args:
        filters: output channels.
        downsample: 2x2 average pooling at the end of both paths.
        preactivation: ReLU on the input (False for the first block only).
        kernel_initializer: initializer of every kernel.
        sn_epsilon: spectral-norm epsilon of every convolution.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        filters: int,
        downsample: bool = True,
        preactivation: bool = True,
        kernel_initializer: Any = "orthogonal",
        sn_epsilon: float = DEFAULT_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = filters
        self.downsample = downsample
        self.preactivation = preactivation
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.sn_epsilon = sn_epsilon
        self.conv1 = _conv(self, filters, 3, "conv1")
        self.conv2 = _conv(self, filters, 3, "conv2")
        self.pool = keras.layers.AveragePooling2D(2, name="pool", dtype=self.dtype_policy)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.shortcut = None
        if self.downsample or input_shape[-1] != self.filters:
            self.shortcut = _conv(self, self.filters, 1, "shortcut")

    def _shortcut(self, x, training):
        if self.shortcut is None:
            return x
        if self.preactivation:
            x = self.shortcut(x, training=training)
            return self.pool(x) if self.downsample else x
        x = self.pool(x) if self.downsample else x
        return self.shortcut(x, training=training)

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        h = _preactivation_relu(inputs) if self.preactivation else inputs
        h = self.conv1(h, training=training)
        h = self.conv2(ops.relu(h), training=training)
        if self.downsample:
            h = self.pool(h)
        return h + self._shortcut(inputs, training)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "downsample": self.downsample,
            "preactivation": self.preactivation,
            "kernel_initializer": self.kernel_initializer,
            "sn_epsilon": self.sn_epsilon,
        }
