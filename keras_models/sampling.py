"""Sampling an exported generator: train.py's `generate` and `nearest` commands.

The export is the SavedModel of `GAN.export_generator`, whose serving signature takes
`latents` (and `labels` when conditional) and returns `images` in [-1, 1].
"""

import os

import numpy as np
import tensorflow as tf

from keras_models.images import image_grid, nearest_neighbours, save_png


def truncated_latents(
    rng: np.random.Generator, num: int, dim: int, threshold: float | None = None
) -> np.ndarray:
    """Standard normal latents; with `threshold`, entries beyond it are redrawn (BigGAN's
    truncation trick), trading variety for fidelity.

    Args:
        rng: the NumPy generator to draw from.
        num: how many latents.
        dim: the latent dimension.
        threshold: the largest magnitude kept, or None (no truncation).

    Returns:
        float32 (num, dim) latents.

    Raises:
        ValueError: for a threshold that is not positive (no draw could satisfy it).
    """
    if threshold is not None and not threshold > 0:
        raise ValueError(f"Expected a truncation > 0. Received: truncation={threshold}.")
    z = rng.standard_normal((num, dim)).astype(np.float32)
    while threshold is not None and np.any(np.abs(z) > threshold):
        outside = np.abs(z) > threshold
        z[outside] = rng.standard_normal(outside.sum())
    return z


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between latents `a` and `b` at `t` in [0, 1].

    Args:
        a: the latent at t = 0.
        b: the latent at t = 1.
        t: the position between them.

    Returns:
        The interpolated latent (linear when `a` and `b` point the same way).
    """
    omega = np.arccos(np.clip(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)), -1, 1))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


class ExportedGenerator:
    """The serving signature of an exported generator.

    Attributes:
        latent_dim: the generator's latent dimension.
        conditional: whether it takes class labels.

    Args:
        export_dir: the SavedModel directory.

    Raises:
        ValueError: when there is no SavedModel there.
    """

    def __init__(self, export_dir: str):
        if not export_dir or not os.path.isdir(export_dir):
            raise ValueError(
                f"Expected a SavedModel directory. Received: {export_dir!r}. Train with "
                "--export or give --export_dir."
            )
        if not tf.saved_model.contains_saved_model(export_dir):
            raise ValueError(
                f"Expected a SavedModel directory (the export/ folder of a run). Received: "
                f"{export_dir!r}, a folder without saved_model.pb."
            )
        self.serve = tf.saved_model.load(export_dir).signatures["serving_default"]
        inputs = self.serve.structured_input_signature[1]
        self.latent_dim = inputs["latents"].shape[-1]
        self.conditional = "labels" in inputs

    def __call__(self, latents: np.ndarray, label: int | None = None) -> np.ndarray:
        """Images (N, H, W, C) in [-1, 1] for `latents`, all of class `label`.

        Args:
            latents: (N, latent_dim) latents.
            label: the class of every image (conditional generators only), or None.

        Returns:
            float32 (N, H, W, C) NumPy images in [-1, 1].

        Raises:
            ValueError: for a conditional generator without `label` or with a label it
                does not know, or a `label` for an unconditional one.
        """
        kwargs = {"latents": tf.constant(latents, tf.float32)}
        if not self.conditional:
            if label is not None:
                raise ValueError(
                    f"Expected no label: this generator is unconditional. Received: label={label}."
                )
            return self.serve(**kwargs)["images"].numpy()
        if label is None:
            raise ValueError(
                "Expected a class label (--label=N): this generator is class-conditional. "
                "Received: none."
            )
        kwargs["labels"] = tf.fill([len(latents)], int(label))
        try:
            return self.serve(**kwargs)["images"].numpy()
        except tf.errors.InvalidArgumentError as error:  # an embedding lookup out of range
            raise ValueError(
                f"Expected a class label the generator was trained with (0 to its number of "
                f"classes - 1). Received: label={label}."
            ) from error


def write_samples(
    generator: ExportedGenerator,
    output: str,
    *,
    num_samples: int = 64,
    seed: int = 0,
    truncation: float | None = None,
    interpolate: int = 0,
    label: int | None = None,
    output_dir: str | None = None,
) -> int:
    """Writes a grid of samples (or, with `interpolate`, an N-step latent interpolation
    strip) to `output`, and with `output_dir` each image as its own PNG.

    Args:
        generator: the exported generator (or any callable `(latents, label) ->
            images` with a `latent_dim`).
        output: the PNG file of the grid or strip.
        num_samples: images in the grid.
        seed: seed of the latents.
        truncation: the truncation threshold (see `truncated_latents`), or None.
        interpolate: 0 for a grid, else the number of steps of a strip between two
            latents (at least 2).
        label: the class of every image (conditional generators), or None.
        output_dir: a folder for each image as `{i:05d}.png`, or None.

    Returns:
        The number of images generated.

    Raises:
        ValueError: for `num_samples` < 1, `interpolate` of 1 or less than 0, or a
            truncation that is not positive.
    """
    if num_samples < 1 or interpolate < 0 or interpolate == 1:
        raise ValueError(
            "Expected num_samples >= 1 and interpolate = 0 or >= 2 (the strip's steps). "
            f"Received: num_samples={num_samples}, interpolate={interpolate}."
        )
    rng = np.random.default_rng(seed)
    if interpolate:
        a, b = truncated_latents(rng, 2, generator.latent_dim, truncation)
        latents = np.stack([slerp(a, b, t) for t in np.linspace(0, 1, interpolate)])
    else:
        latents = truncated_latents(rng, num_samples, generator.latent_dim, truncation)
    images = generator(latents, label)
    save_png(image_grid(images, interpolate or None), output)
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        for i, image in enumerate(images):
            save_png(image_grid(image[None]), os.path.join(output_dir, f"{i:05d}.png"))
    return len(images)


def write_nearest(
    generator: ExportedGenerator,
    train_images: np.ndarray,
    output: str,
    *,
    seed: int = 0,
    label: int | None = None,
    count: int = 8,
    k: int = 4,
) -> None:
    """Writes `count` samples, each beside its `k` nearest training images by pixel L2
    (a memorisation check), as one row per sample.

    Args:
        generator: the exported generator (or any callable `(latents, label) ->
            images` with a `latent_dim`).
        train_images: (N, H, W, C) training images in [-1, 1].
        output: the PNG file to write.
        seed: seed of the samples' latents.
        label: the class of every sample (conditional generators), or None.
        count: samples (rows).
        k: neighbours per sample.
    """
    latents = truncated_latents(np.random.default_rng(seed), count, generator.latent_dim)
    samples = generator(latents, label)
    indices, _ = nearest_neighbours(samples, train_images, k=k)
    rows = np.concatenate([samples[:, None], train_images[indices]], axis=1)
    save_png(image_grid(rows.reshape(-1, *rows.shape[2:]), k + 1), output)
