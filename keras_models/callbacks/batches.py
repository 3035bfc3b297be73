"""Running a GAN's G and D over many images in batches, as NumPy, for the callbacks.

Only the public API of `keras_models.GAN` is used: `gan.generate(latents, labels,
use_ema=True)`, `gan.latent_dim`, `gan.num_classes` and `gan.discriminate(images,
labels, role="clean", training=False)`, D's one path (never augmented for "clean").
"""

import keras
import numpy as np


def fixed_latents(
    gan: keras.Model, num: int, seed: int = 0, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Reproducible latents (and labels: 0, 1, 2, ... for a conditional GAN).

    Args:
        gan: the GAN (its `latent_dim` and `num_classes`).
        num: how many.
        seed: seed of the standard normal draw.
        labels: the labels to use, or None (cycled class ids when conditional).

    Returns:
        `(latents, labels)`: float32 (num, latent_dim) and int32 (num,) or None.
    """
    latents = np.random.default_rng(seed).standard_normal((num, gan.latent_dim), np.float32)
    if gan.num_classes is not None and labels is None:
        labels = np.arange(num, dtype=np.int32) % gan.num_classes
    return latents, None if labels is None else np.asarray(labels, np.int32)


def _in_batches(fn, inputs, labels, batch_size):
    """`fn(inputs, labels)` over consecutive batches (labels may be None), concatenated."""
    outputs = []
    for i in range(0, len(inputs), batch_size):
        batch_labels = None if labels is None else labels[i : i + batch_size]
        outputs.append(np.asarray(fn(inputs[i : i + batch_size], batch_labels)))
    return np.concatenate(outputs)


def generate(
    gan: keras.Model, latents: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 64
) -> np.ndarray:
    """EMA-generator images for given latents, in batches, as NumPy.

    Args:
        gan: the GAN.
        latents: (N, latent_dim) latents.
        labels: (N,) class ids for a conditional GAN, or None.
        batch_size: images per call of the generator.

    Returns:
        (N, H, W, C) images in [-1, 1].
    """
    return _in_batches(lambda z, y: gan.generate(z, y, use_ema=True), latents, labels, batch_size)


def discriminate(
    gan: keras.Model, images: np.ndarray, labels: np.ndarray | None, batch_size: int = 256
) -> np.ndarray:
    """D's float64 logits (N,) on un-augmented images, through the GAN's one path to D."""
    logits = lambda x, y: gan.discriminate(x, y, role="clean", training=False)[0]
    return _in_batches(logits, images, labels, batch_size).astype(np.float64)
