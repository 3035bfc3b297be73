"""Prints the parameter counts of the full BigGAN presets next to the published ones.

    python -m keras_models.biggan.param_count

Builds each preset symbolically (no forward pass) with a zeros initializer, since counts do
not depend on initial values and orthogonal initialization of 160M weights takes a while.
"""

import math

import keras

from keras_models.biggan.model import Discriminator, Generator
from keras_models.biggan.presets import PRESETS

# compare_gan resnet_biggan_test.py (= BigGAN-PyTorch at G_ch = D_ch = 96). No published
# count exists for the DiffAugment CIFAR setting; tests/keras_models/biggan/test_biggan.py
# derives it by hand.
PUBLISHED: dict[str, tuple[int, int]] = {"imagenet128": (70_433_988, 87_982_370)}


def count_trainable(model: keras.Model) -> int:
    """Number of trainable scalars: what compare_gan and BigGAN-PyTorch report.

    Excludes batch-norm moving statistics and spectral-norm singular vectors, which
    `model.count_params()` includes.

    Args:
        model: a built model.
    """
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def preset_counts(name: str) -> tuple[int, int, int, int]:
    """The parameter counts of a BigGAN preset's networks.

    Args:
        name: a key of `keras_models.biggan.PRESETS`.

    Returns:
        (G trainable, D trainable, G all weights, D all weights).
    """
    # Backbones create every weight at construction.
    models = [
        cls.from_preset(name, kernel_initializer="zeros") for cls in (Generator, Discriminator)
    ]
    return tuple(count_trainable(m) for m in models) + tuple(m.count_params() for m in models)


def main() -> None:
    """Prints the table (Markdown) of every preset's counts."""
    print(
        "| preset | G trainable | D trainable | G all weights | D all weights | published G / D |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in PRESETS:
        g, d, g_all, d_all = preset_counts(name)
        published = PUBLISHED.get(name)
        ref = f"{published[0]:,} / {published[1]:,}" if published else "-"
        print(f"| {name} | {g:,} | {d:,} | {g_all:,} | {d_all:,} | {ref} |")


if __name__ == "__main__":
    main()
