"""The interface every backbone family (BigGAN, StyleGAN2) implements, in one place.

A backbone generator or discriminator is a `keras.Model` that also derives from
`GeneratorBackbone` or `DiscriminatorBackbone`, which give it:

- `from_preset(name, **overrides)`: the family's named architecture with overrides, read
  from the family's `PRESETS` (one `Preset` schema for every family, the one lookup);
- one scaling argument, `width` (BigGAN's channel multiplier `ch`, StyleGAN2's
  `fmap_base`, which stays accepted as an alias), and the attributes `width`,
  `num_classes` and `resolution` (generators also `latent_dim`);
- every weight right after construction (`count_params()` works before any call): the
  constructor builds the model at `call_input_shape`, the nested input shape of its call
  with batch size None;
- for discriminators, `blocks_from_input()`: the feature blocks in the order the image
  passes through them, which FreezeD counts (`freeze_blocks`).

`keras_models.GAN` needs none of this (any Keras models with its calling convention
train); train.py, the recipes and fine-tuning rely on it.
"""

import copy
from collections.abc import Mapping
from typing import Any, ClassVar, TypedDict, TypeVar

import keras


class Preset(TypedDict):
    """A backbone preset: the constructor arguments of each network, nothing else.

    How a preset was trained (batch size, optimiser, loss, augmentation, length) is the
    recipes' business (`keras_models.recipes`), not the architecture's.

    Attributes:
        generator: keyword arguments of the family's `Generator`.
        discriminator: keyword arguments of the family's `Discriminator`.
    """

    generator: dict[str, Any]
    discriminator: dict[str, Any]


_B = TypeVar("_B", bound="_Backbone")


class _Backbone:
    """Preset construction and building at construction, for a `keras.Model`."""

    # Set by each family: its name in messages, its presets ({name: Preset}), and other
    # names of constructor arguments ({alias: name}) that overrides may use.
    family: ClassVar[str] = "backbone"
    presets: ClassVar[Mapping[str, Preset]] = {}
    argument_aliases: ClassVar[dict[str, str]] = {}
    # The part of a preset that builds this class ("generator" / "discriminator").
    preset_part: ClassVar[str]

    @classmethod
    def from_preset(cls: type[_B], name: str, **overrides: Any) -> _B:
        """Builds the model of preset `name`, its weights created on return.

        Args:
            name: a key of the family's `PRESETS`, e.g. "cifar32".
            **overrides: constructor arguments replacing or adding to the preset's, e.g.
                `width=8`, `resolution=32` (or an alias, e.g. StyleGAN2's `fmap_base`).

        Returns:
            The model, built.

        Raises:
            ValueError: for an unknown preset name (the message lists the valid ones).
        """
        if name not in cls.presets:
            raise ValueError(
                f"Unknown {cls.family} preset. Expected one of {sorted(cls.presets)}. "
                f"Received: name={name!r}"
            )
        arguments = copy.deepcopy(cls.presets[name][cls.preset_part])
        arguments.update({cls.argument_aliases.get(k, k): v for k, v in overrides.items()})
        return cls(**arguments)

    @property
    def call_input_shape(self) -> Any:
        """The nested input shape to `build` this model with, batch size None."""
        raise NotImplementedError

    def _build_at_construction(self) -> None:
        """Creates every weight; the last statement of a backbone's constructor."""
        self.build(self.call_input_shape)


class GeneratorBackbone(_Backbone):
    """Generators: `latent_dim`, `num_classes`, `resolution`, `width`.

    Called as `generator(latents)` or `generator([latents, labels])` (labels int (B,))
    when `num_classes` is set; returns NHWC images of side `resolution`.
    """

    preset_part = "generator"

    @property
    def call_input_shape(self) -> tuple | list:
        latents = (None, self.latent_dim)
        return [latents, (None,)] if self.num_classes else latents


class DiscriminatorBackbone(_Backbone):
    """Discriminators: `num_classes`, `resolution`, `width`, `blocks_from_input()`.

    Called as `discriminator(images)` or `discriminator([images, labels])` when
    `num_classes` is set; returns (B, 1) logits.
    """

    preset_part = "discriminator"
    # Image channels; a family with a `channels` argument sets it per instance.
    channels = 3

    @property
    def call_input_shape(self) -> tuple | list:
        images = (None, self.resolution, self.resolution, self.channels)
        return [images, (None,)] if self.num_classes else images

    def blocks_from_input(self) -> list[keras.layers.Layer]:
        """The feature layers in the order the image passes through them (the first one
        sees the image), without the output head: what `freeze_blocks` counts."""
        raise NotImplementedError


def freeze_blocks(discriminator: keras.Model, count: int) -> list[keras.layers.Layer]:
    """FreezeD (Mo et al., 2020): makes the first `count` blocks of `discriminator`
    from the image side non-trainable.

    They drop out of `discriminator.trainable_variables`, so an optimizer built on
    those creates no slots for them and never updates them. As Keras freezes a
    `BatchNormalization` (its statistics stop moving), a frozen spectral-norm layer keeps
    its singular-vector estimate: a frozen block computes exactly the function it had.
    `count=0` changes nothing.

    Args:
        discriminator: a model with `blocks_from_input()` (every backbone discriminator).
        count: number of blocks to freeze, 0 to `len(discriminator.blocks_from_input())`.

    Returns:
        The frozen blocks.

    Raises:
        ValueError: for a count out of range, or a discriminator that does not list its
            blocks.
    """
    if count == 0:
        return []
    if not hasattr(discriminator, "blocks_from_input"):
        raise ValueError(
            "Freezing discriminator blocks needs a discriminator that lists them "
            "(`blocks_from_input()`, as the backbones of keras_models.biggan and "
            f"keras_models.stylegan2 do). Received: {type(discriminator).__name__}"
        )
    blocks = discriminator.blocks_from_input()
    if not 0 <= count <= len(blocks):
        raise ValueError(
            f"Expected between 0 and {len(blocks)} frozen discriminator blocks (the blocks "
            f"from the image side: {', '.join(b.name for b in blocks)}). "
            f"Received: {count}"
        )
    for block in blocks[:count]:
        block.trainable = False
    return blocks[:count]
