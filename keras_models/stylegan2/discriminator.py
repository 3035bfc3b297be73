"""StyleGAN2 residual discriminator with optional projection conditioning."""

import math
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from keras_models.backbone import DiscriminatorBackbone
from keras_models.conditioning import unpack
from keras_models.layers.equalized import EqualizedConv2D, EqualizedDense
from keras_models.layers.minibatch_std import MinibatchStdDev
from keras_models.layers.resample import DEFAULT_FILTER, check_taps
from keras_models.stylegan2.scaling import (
    _StyleGAN2Model,
    feature_maps,
    resolution_log2,
    scaling_width,
)


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class ResidualBlock(keras.layers.Layer):
    """`(conv3x3 -> conv3x3 down  +  conv1x1 down) / sqrt(2)`, StyleGAN2's D block.

    Args:
        filters0: channels of the first 3x3 conv.
        filters1: output channels (at half the input resolution).
        taps: FIR down-sampling filter.
        **kwargs: base layer arguments.
    """

    def __init__(
        self, filters0: int, filters1: int, taps: Sequence[float] = DEFAULT_FILTER, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.filters0 = int(filters0)
        self.filters1 = int(filters1)
        self.taps = check_taps(taps)
        self.conv0 = EqualizedConv2D(self.filters0, 3, activation="lrelu", name="conv0")
        self.conv1 = EqualizedConv2D(
            self.filters1, 3, activation="lrelu", down=True, taps=self.taps, name="conv1"
        )
        self.skip = EqualizedConv2D(
            self.filters1, 1, use_bias=False, down=True, taps=self.taps, name="skip"
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.conv0.build(input_shape)
        self.conv1.build(self.conv0.compute_output_shape(input_shape))
        self.skip.build(input_shape)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return (self.conv1(self.conv0(x)) + self.skip(x)) * (1.0 / math.sqrt(2.0))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return self.skip.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters0": self.filters0,
            "filters1": self.filters1,
            "taps": self.taps,
        }


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class Discriminator(_StyleGAN2Model, DiscriminatorBackbone, keras.Model):
    """StyleGAN2 discriminator (residual architecture, config F).

    ```python
    d = Discriminator.from_preset("cifar32")
    logits = d(images)                      # (B, 1)
    d_cond = Discriminator(resolution=32, num_classes=10)
    logits = d_cond([images, labels])       # labels: int (B,)
    ```

    fromRGB (1x1) at full resolution, then per resolution a residual block
    `(conv3x3 -> conv3x3 down + conv1x1 down skip) / sqrt(2)`, with FIR-filtered
    stride-2 down-sampling; at 4x4 a minibatch standard deviation layer, a 3x3 conv, a
    dense layer (features h) and a linear output. Every layer has an equalized learning
    rate; all but the skips and the output use leaky ReLU 0.2 (gain sqrt 2).

    With `num_classes`, projection conditioning (Miyato & Koyama, 2018) adds
    `<embed(label), h> / sqrt(dim h)` to the logit; the scaling keeps the term's size
    independent of width. (The reference's TF code instead outputs one logit per class
    and picks the label's; that is the projection term without the shared output.)

    Args:
        resolution: input side, a power of two >= 4.
        num_classes: None for unconditional.
        width, fmap_max: channels at resolution r are min(width * 2 / r, fmap_max)
            (`width` is StyleGAN2's `fmap_base`, 16384 when None).
        channels: image channels.
        taps: FIR down-sampling filter; (1, 3, 3, 1) is anti-aliased bilinear, (1, 1) box.
        mbstd_group_size: minibatch-stddev group size (0 disables the layer).
        mbstd_num_features: minibatch-stddev channel groups.
        fmap_base: another name of `width`.
        **kwargs: base `keras.Model` arguments (name, dtype, ...).
    """

    def __init__(
        self,
        resolution: int = 1024,
        num_classes: int | None = None,
        width: int | None = None,
        fmap_max: int = 512,
        channels: int = 3,
        taps: Sequence[float] = DEFAULT_FILTER,
        mbstd_group_size: int = 4,
        mbstd_num_features: int = 1,
        fmap_base: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resolution = int(resolution)
        self.num_classes = num_classes
        self.width = scaling_width(width, fmap_base)
        self.fmap_max = int(fmap_max)
        self.channels = int(channels)
        self.taps = check_taps(taps)
        self.mbstd_group_size = int(mbstd_group_size)
        self.mbstd_num_features = int(mbstd_num_features)
        log2 = resolution_log2(self.resolution)

        def nf(stage):
            return feature_maps(stage, self.width, self.fmap_max)

        self.fromrgb = EqualizedConv2D(
            nf(log2 - 1), 1, activation="lrelu", name=f"b{self.resolution}_fromrgb"
        )
        self.blocks = [
            ResidualBlock(nf(res - 1), nf(res - 2), taps=self.taps, name=f"b{2**res}")
            for res in range(log2, 2, -1)
        ]
        self.mbstd = None
        if self.mbstd_group_size > 1:
            self.mbstd = MinibatchStdDev(
                self.mbstd_group_size, self.mbstd_num_features, name="b4_mbstd"
            )
        self.conv = EqualizedConv2D(nf(1), 3, activation="lrelu", name="b4_conv")
        self.fc = EqualizedDense(nf(0), activation="lrelu", name="b4_fc")
        self.out = EqualizedDense(1, name="out")
        self.embed = None
        if num_classes:
            # Equalized embedding: one-hot labels through an equalized dense layer.
            self.embed = EqualizedDense(nf(0), use_bias=False, name="embed")
        self._build_at_construction()

    def blocks_from_input(self) -> list[keras.layers.Layer]:
        """fromRGB, then the residual blocks from the input resolution down to 8x8 (the
        layers stylegan2-ada-pytorch's `--freezed` counts, one per block here)."""
        return [self.fromrgb, *self.blocks]

    def build(self, input_shape: Any) -> None:
        if self.built:  # built by the constructor; building again would change nothing
            return
        shape = input_shape[0] if self.num_classes else input_shape
        shape = (None, *shape[1:3], self.channels)
        for layer in self.blocks_from_input():
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        if self.mbstd is not None:
            self.mbstd.build(shape)
            shape = self.mbstd.compute_output_shape(shape)
        self.conv.build(shape)
        self.fc.build((None, 16 * self.conv.filters))
        self.out.build((None, self.fc.units))
        if self.embed is not None:
            self.embed.build((None, self.num_classes))
        self.built = True

    def call(self, inputs: tf.Tensor | list[tf.Tensor], training: bool | None = None) -> tf.Tensor:
        images, labels = unpack(
            inputs, conditional=bool(self.num_classes), call="discriminator", first="images"
        )
        x = images
        for layer in self.blocks_from_input():
            x = layer(x)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        h = self.fc(tf.reshape(x, [tf.shape(x)[0], 16 * self.conv.filters]))
        logits = self.out(h)
        if self.embed is not None:
            one_hot = tf.one_hot(tf.cast(labels, "int32"), self.num_classes, dtype=h.dtype)
            projection = tf.reduce_sum(self.embed(one_hot) * h, axis=-1, keepdims=True)
            logits = logits + projection * (1.0 / math.sqrt(self.fc.units))
        return logits

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, int]:
        return ((input_shape[0] if self.num_classes else input_shape)[0], 1)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "resolution": self.resolution,
            "num_classes": self.num_classes,
            "width": self.width,
            "fmap_max": self.fmap_max,
            "channels": self.channels,
            "taps": self.taps,
            "mbstd_group_size": self.mbstd_group_size,
            "mbstd_num_features": self.mbstd_num_features,
        }
