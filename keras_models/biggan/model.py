"""BigGAN generator and projection discriminator (Brock et al., 2019) in Keras 3.

Follows ajbrock/BigGAN-PyTorch (BigGAN.py, layers.py), the authors' reference, whose
ImageNet-128 parameter counts equal compare_gan's pinned ones. Channels last.
"""

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_models.backbone import DiscriminatorBackbone, GeneratorBackbone
from keras_models.biggan.blocks import DiscriminatorBlock, GeneratorBlock
from keras_models.biggan.presets import PRESETS
from keras_models.conditioning import unpack
from keras_models.layers.initializer_utils import initializer_config
from keras_models.layers.self_attention import SelfAttention
from keras_models.layers.spectral_normalization import (
    DEFAULT_EPSILON,
    SNConv2D,
    SNDense,
    SNEmbedding,
)

# Channel multipliers of `width` per resolution (BigGAN-PyTorch's G_arch / D_arch).
# Generator: the 4x4 seed, then the output of each 2x up-block.
_G_CHANNELS = {
    32: (4, 4, 4, 4),
    64: (16, 16, 8, 4, 2),
    128: (16, 16, 8, 4, 2, 1),
    256: (16, 16, 8, 8, 4, 2, 1),
}
# Discriminator: (output multiplier, downsamples) per block. At 32 px D stops at 8x8.
_D_BLOCKS = {
    32: ((4, True), (4, True), (4, False), (4, False)),
    64: ((1, True), (2, True), (4, True), (8, True), (16, False)),
    128: ((1, True), (2, True), (4, True), (8, True), (16, True), (16, False)),
    256: ((1, True), (2, True), (4, True), (8, True), (8, True), (16, True), (16, False)),
}
_SEED_SIDE = 4


def _check_resolution(resolution, table):
    if resolution not in table:
        raise ValueError(
            f"BigGAN supports resolutions {sorted(table)}. Received: resolution={resolution}"
        )


def _attention_after(sides, attention_resolutions):
    """Sorted indices of the blocks followed by attention: the first block at each side."""
    indices = []
    for side in attention_resolutions:
        if side not in sides:
            raise ValueError(
                f"Attention resolutions must be among the block outputs {sorted(set(sides))}. "
                f"Received: attention_resolutions={tuple(attention_resolutions)}"
            )
        indices.append(sides.index(side))
    return sorted(set(indices))


class _BigGANModel:
    """BigGAN's presets, and a build that creates every weight without running."""

    family = "BigGAN"
    presets = PRESETS

    def build(self, input_shape: Any) -> None:
        if self.built:  # built by the constructor; building again would change nothing
            return
        # A symbolic pass creates every weight at the shape `call` derives (no computation).
        self.compute_output_spec(keras.tree.map_shape_structure(keras.KerasTensor, input_shape))


@keras.saving.register_keras_serializable(package="keras_models.biggan")
class Generator(_BigGANModel, GeneratorBackbone, keras.Model):
    """BigGAN generator: z (and class) to NHWC images in [-1, 1].

    Linear (SN) from z (or its first chunk) to a 4x4 seed, residual up-blocks with
    (class-)conditional batch norm, optional self-attention, then BN-ReLU-conv3x3-tanh.

    Args:
        latent_dim: size of z.
        num_classes: number of classes; None for an unconditional generator.
        resolution: output side, one of 32, 64, 128, 256 (sets the number of blocks).
        width: channel multiplier (BigGAN's `ch`).
        hierarchical_z: split z into (blocks + 1) equal chunks: the first feeds the linear
            layer, one goes to each block's batch norms.
        shared_embedding_dim: size of the class embedding shared by all blocks; None feeds
            one-hot labels to per-layer projections (per-layer class embeddings).
        attention_resolutions: sides after whose (first) block self-attention is inserted.
        kernel_initializer: initializer of all kernels and embeddings.
        bn_momentum: batch-norm momentum (Keras convention; 0.9 = PyTorch's 0.1).
        bn_epsilon: batch-norm epsilon.
        sn_epsilon: spectral-norm epsilon (BigGAN's `--SN_eps`) of every SN layer.
        name: the model's name.
        **kwargs: other `keras.Model` arguments, e.g. `dtype`.

    Call: `generator(latents)`, or `generator([latents, labels])` with int labels (B,)
    when `num_classes` is set. Returns (B, resolution, resolution, 3).

    The conditional batch norms see [class embedding (or one-hot), z chunk], whichever
    exist; with neither (unconditional, no hierarchical z) they are plain batch norms.
    Their projections are spectrally normalized except when they act on one-hot labels,
    where they are embedding tables that BigGAN leaves unnormalized, as it does the shared
    embedding.
    """

    def __init__(
        self,
        latent_dim: int = 128,
        num_classes: int | None = None,
        resolution: int = 32,
        width: int = 64,
        hierarchical_z: bool = False,
        shared_embedding_dim: int | None = None,
        attention_resolutions: Sequence[int] = (),
        kernel_initializer: Any = "orthogonal",
        bn_momentum: float = 0.9,
        bn_epsilon: float = 1e-5,
        sn_epsilon: float = DEFAULT_EPSILON,
        name: str = "generator",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        _check_resolution(resolution, _G_CHANNELS)
        channels = [width * m for m in _G_CHANNELS[resolution]]
        num_blocks = len(channels) - 1
        if hierarchical_z and latent_dim % (num_blocks + 1):
            raise ValueError(
                f"With hierarchical_z, latent_dim must split into {num_blocks + 1} equal "
                f"chunks at resolution {resolution}. Received: latent_dim={latent_dim}"
            )
        if shared_embedding_dim is not None and num_classes is None:
            raise ValueError(
                "shared_embedding_dim needs num_classes; pass shared_embedding_dim=None for an "
                "unconditional generator. "
                f"Received: shared_embedding_dim={shared_embedding_dim}, num_classes=None"
            )
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.resolution = resolution
        self.width = width
        self.hierarchical_z = hierarchical_z
        self.shared_embedding_dim = shared_embedding_dim
        self.attention_resolutions = tuple(attention_resolutions)
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.bn_momentum = bn_momentum
        self.bn_epsilon = bn_epsilon
        self.sn_epsilon = sn_epsilon

        conditional_bn = num_classes is not None or hierarchical_z
        self.shared_embedding = None
        if shared_embedding_dim is not None:
            self.shared_embedding = keras.layers.Embedding(
                num_classes,
                shared_embedding_dim,
                embeddings_initializer=self.kernel_initializer,
                name="shared_embedding",
                dtype=self.dtype_policy,
            )
        self.seed_channels = channels[0]
        self.linear = SNDense(
            _SEED_SIDE * _SEED_SIDE * channels[0],
            kernel_initializer=self.kernel_initializer,
            epsilon=sn_epsilon,
            name="linear",
            dtype=self.dtype_policy,
        )
        self.blocks = [
            GeneratorBlock(
                filters,
                conditional=conditional_bn,
                # On one-hot labels the projections are per-class embedding tables, which
                # BigGAN-PyTorch leaves unnormalized; on learned codes they are SN linears.
                condition_spectral_norm=not (
                    num_classes is not None and shared_embedding_dim is None
                ),
                kernel_initializer=self.kernel_initializer,
                bn_momentum=bn_momentum,
                bn_epsilon=bn_epsilon,
                sn_epsilon=sn_epsilon,
                name=f"block{index + 1}",
                dtype=self.dtype_policy,
            )
            for index, filters in enumerate(channels[1:])
        ]
        sides = [_SEED_SIDE * 2 ** (index + 1) for index in range(num_blocks)]
        self.attention_after = _attention_after(sides, self.attention_resolutions)
        self.attention = [
            SelfAttention(
                self.kernel_initializer,
                sn_epsilon=sn_epsilon,
                name=f"attention{index + 1}",
                dtype=self.dtype_policy,
            )
            for index in self.attention_after
        ]
        self.output_bn = keras.layers.BatchNormalization(
            momentum=bn_momentum, epsilon=bn_epsilon, name="output_bn", dtype=self.dtype_policy
        )
        self.output_conv = SNConv2D(
            3,
            3,
            padding="same",
            kernel_initializer=self.kernel_initializer,
            epsilon=sn_epsilon,
            name="output_conv",
            dtype=self.dtype_policy,
        )
        self._build_at_construction()

    def call(self, inputs: tf.Tensor | list[tf.Tensor], training: bool | None = None) -> tf.Tensor:
        latents, labels = unpack(
            inputs, conditional=self.num_classes is not None, call="generator", first="latents"
        )
        num_blocks = len(self.blocks)
        if self.hierarchical_z:
            z_seed, *z_blocks = ops.split(latents, num_blocks + 1, axis=-1)
        else:
            z_seed, z_blocks = latents, [None] * num_blocks
        if labels is None:
            class_code = None
        elif self.shared_embedding is not None:
            class_code = self.shared_embedding(labels)
        else:
            class_code = ops.one_hot(labels, self.num_classes, dtype=latents.dtype)

        h = self.linear(z_seed, training=training)
        h = ops.reshape(h, (-1, _SEED_SIDE, _SEED_SIDE, self.seed_channels))
        attention = dict(zip(self.attention_after, self.attention, strict=True))
        for index, (block, z_block) in enumerate(zip(self.blocks, z_blocks, strict=True)):
            parts = [t for t in (class_code, z_block) if t is not None]
            condition = ops.concatenate(parts, axis=-1) if parts else None
            h = block(h, condition, training=training)
            if index in attention:
                h = attention[index](h, training=training)
        h = ops.relu(self.output_bn(h, training=training))
        return ops.tanh(self.output_conv(h, training=training))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "resolution": self.resolution,
            "width": self.width,
            "hierarchical_z": self.hierarchical_z,
            "shared_embedding_dim": self.shared_embedding_dim,
            "attention_resolutions": self.attention_resolutions,
            "kernel_initializer": self.kernel_initializer,
            "bn_momentum": self.bn_momentum,
            "bn_epsilon": self.bn_epsilon,
            "sn_epsilon": self.sn_epsilon,
        }


@keras.saving.register_keras_serializable(package="keras_models.biggan")
class Discriminator(_BigGANModel, DiscriminatorBackbone, keras.Model):
    """BigGAN projection discriminator: images (and class) to (B, 1) float32 logits.

    Residual down-blocks (the first one SN-GAN's optimized block), optional self-attention,
    ReLU, global sum pooling to h, then `linear(h) + <embedding(label), h>` when
    conditional (projection discriminator, Miyato & Koyama, 2018). All kernels and the
    class embedding are spectrally normalized.

    Args:
        num_classes: number of classes; None for an unconditional discriminator.
        resolution: input side, one of 32, 64, 128, 256.
        width: channel multiplier (BigGAN's `ch`).
        attention_resolutions: sides after whose (first) block self-attention is inserted.
        kernel_initializer: initializer of all kernels and of the class embedding.
        sn_epsilon: spectral-norm epsilon (BigGAN's `--SN_eps`) of every layer.
        name: the model's name.
        **kwargs: other `keras.Model` arguments, e.g. `dtype`.

    Call: `discriminator(images)`, or `discriminator([images, labels])` with int labels
    (B,) when `num_classes` is set. Images are (B, resolution, resolution, C).
    """

    # Samples are scored independently, so `keras_models.GAN` scores the reals and fakes
    # of a D step in one call, as BigGAN's G_D does.
    joint_discriminator_pass = True

    def __init__(
        self,
        num_classes: int | None = None,
        resolution: int = 32,
        width: int = 64,
        attention_resolutions: Sequence[int] = (),
        kernel_initializer: Any = "orthogonal",
        sn_epsilon: float = DEFAULT_EPSILON,
        name: str = "discriminator",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        _check_resolution(resolution, _D_BLOCKS)
        self.num_classes = num_classes
        self.resolution = resolution
        self.width = width
        self.attention_resolutions = tuple(attention_resolutions)
        self.kernel_initializer = initializer_config(kernel_initializer)
        self.sn_epsilon = sn_epsilon

        self.blocks = []
        sides = []
        side = resolution
        for index, (multiplier, downsample) in enumerate(_D_BLOCKS[resolution]):
            self.blocks.append(
                DiscriminatorBlock(
                    width * multiplier,
                    downsample=downsample,
                    preactivation=index > 0,
                    kernel_initializer=self.kernel_initializer,
                    sn_epsilon=sn_epsilon,
                    name=f"block{index + 1}",
                    dtype=self.dtype_policy,
                )
            )
            side = side // 2 if downsample else side
            sides.append(side)
        self.attention_after = _attention_after(sides, self.attention_resolutions)
        self.attention = [
            SelfAttention(
                self.kernel_initializer,
                sn_epsilon=sn_epsilon,
                name=f"attention{index + 1}",
                dtype=self.dtype_policy,
            )
            for index in self.attention_after
        ]
        self.linear = SNDense(
            1,
            kernel_initializer=self.kernel_initializer,
            epsilon=sn_epsilon,
            name="linear",
            dtype=self.dtype_policy,
        )
        self.embedding = None
        if num_classes is not None:
            self.embedding = SNEmbedding(
                num_classes,
                width * _D_BLOCKS[resolution][-1][0],
                embeddings_initializer=self.kernel_initializer,
                epsilon=sn_epsilon,
                name="embedding",
                dtype=self.dtype_policy,
            )
        self._build_at_construction()

    def blocks_from_input(self) -> list[keras.layers.Layer]:
        """The residual blocks, each followed by its self-attention layer if any."""
        attention = dict(zip(self.attention_after, self.attention, strict=True))
        layers = []
        for index, block in enumerate(self.blocks):
            layers += [block, attention[index]] if index in attention else [block]
        return layers

    def call(self, inputs: tf.Tensor | list[tf.Tensor], training: bool | None = None) -> tf.Tensor:
        images, labels = unpack(
            inputs, conditional=self.num_classes is not None, call="discriminator", first="images"
        )
        if images.shape[1] != self.resolution or images.shape[2] != self.resolution:
            raise ValueError(
                f"Discriminator expects {self.resolution}x{self.resolution} images. "
                f"Received: images of shape {images.shape}"
            )
        h = images
        for layer in self.blocks_from_input():
            h = layer(h, training=training)
        h = ops.sum(ops.relu(h), axis=(1, 2))
        logits = self.linear(h, training=training)
        if labels is not None:
            embedded = self.embedding(labels, training=training)
            logits = logits + ops.sum(embedded * h, axis=-1, keepdims=True)
        return ops.cast(logits, "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "resolution": self.resolution,
            "width": self.width,
            "attention_resolutions": self.attention_resolutions,
            "kernel_initializer": self.kernel_initializer,
            "sn_epsilon": self.sn_epsilon,
        }
