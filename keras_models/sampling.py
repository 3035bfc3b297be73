"""Sampling an exported generator: train.py's `generate` and `nearest` commands.

The export is the SavedModel of `GAN.export_generator`, whose serving signature takes
`latents` (and `labels` when conditional) and returns `images` in [-1, 1]. Every output
is checked before anything is generated, and the images are generated in batches.
"""

import glob
import os
import tempfile
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf import saved_model_pb2

from keras_models.images import (
    IMAGE_FORMATS,
    MAX_GRID_PIXELS,
    ImageGrid,
    image_grid,
    nearest_neighbours,
    save_png,
    to_pixels,
)

# Latents per call of the generator: one call on tens of thousands of latents can exhaust
# memory or crash inside TensorFlow (100,000 did).
BATCH_SIZE = 256
# What `tf.saved_model.load` raises for a damaged export (a truncated saved_model.pb: an
# OSError, an empty one: a ValueError; a truncated weights file: an IndexError; a missing
# or corrupt one: an OSError or an OpError).
LOAD_ERRORS = (OSError, ValueError, LookupError, tf.errors.OpError)
# How to replace a damaged export (`keras_models.cli.training`: a finished run resumes
# from its last checkpoint, trains no further and exports again).
REEXPORT_ADVICE = (
    "run the training command of its run again with the same flags and --run_dir (a "
    "finished run resumes from its last checkpoint, trains no further steps and writes "
    "<run_dir>/export anew)."
)


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
        image_shape: (H, W, C) of its images.

    Args:
        export_dir: the SavedModel directory.

    Raises:
        ValueError: when there is no SavedModel there, or a damaged one, or one that is not
            a generator's export.
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
        try:
            loaded = tf.saved_model.load(export_dir)
        except LOAD_ERRORS as error:
            part = _damaged_part(export_dir)
            if part is None:  # every part reads: not damage (e.g. a newer TensorFlow's)
                raise ValueError(
                    f"The export at {export_dir!r} cannot be loaded by TensorFlow "
                    f"{tf.__version__} ({str(error).splitlines()[0]}). If it is damaged, "
                    f"export it again: {REEXPORT_ADVICE}"
                ) from error
            raise ValueError(
                f"The export at {export_dir!r} is damaged: {part}. Export it again: "
                f"{REEXPORT_ADVICE}"
            ) from error
        self.serve = loaded.signatures.get("serving_default")
        inputs = self.serve.structured_input_signature[1] if self.serve else {}
        outputs = self.serve.structured_outputs if self.serve else {}
        if "latents" not in inputs or "images" not in outputs:
            raise ValueError(
                f"Expected a generator's export (a serving_default signature from latents "
                f"to images, as train.py writes). Received: {export_dir!r}, a SavedModel "
                "without one."
            )
        self.latent_dim = inputs["latents"].shape[-1]
        self.conditional = "labels" in inputs
        self.image_shape = tuple(outputs["images"].shape[1:])

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


def _damaged_part(export_dir: str) -> str | None:
    """What looks damaged in an export that failed to load, or None when each part reads.

    Args:
        export_dir: the SavedModel directory.

    Returns:
        The damaged part, as the error message names it, or None.
    """
    try:
        with open(os.path.join(export_dir, "saved_model.pb"), "rb") as file:
            graph = saved_model_pb2.SavedModel.FromString(file.read())
    except (OSError, DecodeError):
        return "saved_model.pb (the graph) cannot be read"
    if not graph.meta_graphs:
        return "saved_model.pb (the graph) is empty"
    prefix = os.path.join(export_dir, "variables", "variables")
    if not os.path.exists(prefix + ".index"):
        return "variables/variables.index (the weights' index) is missing"
    if not glob.glob(glob.escape(prefix) + ".data-*"):
        return "variables/variables.data-* (the weights) is missing"
    try:
        reader = tf.train.load_checkpoint(prefix)
    except LOAD_ERRORS:
        return "variables/variables.index (the weights' index) cannot be read"
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except LOAD_ERRORS:
        return "variables/variables.data-* (the weights) is truncated or corrupt"
    return None


def generate_batches(
    generator: ExportedGenerator,
    latents: np.ndarray,
    label: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[np.ndarray]:
    """The generator's images of `latents`, `batch_size` latents per call.

    Args:
        generator: the exported generator (or any callable `(latents, label) -> images`).
        latents: (N, latent_dim) latents, drawn beforehand so that the images do not
            depend on `batch_size`.
        label: the class of every image (conditional generators), or None.
        batch_size: latents per call.

    Yields:
        float32 (batch, H, W, C) images in [-1, 1], in the order of `latents`.
    """
    for start in range(0, len(latents), batch_size):
        yield generator(latents[start : start + batch_size], label)


def check_writable(flag: str, value: str, folder: str) -> None:
    """Refuses, before anything is generated, an output whose folder cannot be written.

    A missing folder is fine (it is created when writing) as long as its nearest existing
    parent can be written in.

    Args:
        flag: the output's command-line flag, for the message.
        value: its value, for the message.
        folder: the folder it writes in.

    Raises:
        ValueError: the nearest existing folder of `folder` cannot be written in.
    """
    folder = os.path.abspath(folder)
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"Expected {flag} in a folder that can be written. Received: {flag}={value!r}, "
            f"but {folder!r} is not writable ({error.strerror}). Choose another {flag}."
        ) from error


def _check_grid_output(
    output: str, grid_shape: tuple[int, int, int], count: int, max_pixels: int = MAX_GRID_PIXELS
) -> None:
    """Refuses, before anything is generated, a grid file that cannot be written sensibly.

    Args:
        output: the grid's file (--output).
        grid_shape: (H, W, C) of the grid.
        count: the images in the grid, for the message.
        max_pixels: the largest grid, in pixels.

    Raises:
        ValueError: an extension other than `IMAGE_FORMATS`', an existing folder, a grid
            over `max_pixels` or over its format's width or height limit, or an
            unwritable folder.
    """
    extension = os.path.splitext(output)[1].lower()
    if extension not in IMAGE_FORMATS:
        raise ValueError(
            f"Expected --output to end in one of {', '.join(IMAGE_FORMATS)} (the image "
            f"format). Received: --output={output!r}. Add an extension, e.g. "
            f"--output={os.path.splitext(output)[0] or 'samples'}.png."
        )
    if os.path.isdir(output):
        raise ValueError(
            f"Expected --output to be an image file. Received: --output={output!r}, an "
            "existing folder. Name a file in it, e.g. "
            f"--output={os.path.join(output, 'samples.png')}."
        )
    height, width, _ = grid_shape
    too_large = (
        f"Received: {count} images, a {width}x{height} grid. Write them as files with "
        "--output_dir instead (with --output='' for no grid), or generate fewer."
    )
    if height * width > max_pixels:
        raise ValueError(
            f"Expected a grid of at most {max_pixels:,} pixels (Pillow refuses to "
            f"open larger images). {too_large}"
        )
    if max(height, width) > IMAGE_FORMATS[extension]:
        raise ValueError(
            f"Expected a grid at most {IMAGE_FORMATS[extension]:,} pixels wide and high "
            f"(the {extension} format's limit; .png has none that matters). {too_large}"
        )
    check_writable("--output", output, os.path.dirname(os.path.abspath(output)))


def write_samples(
    generator: ExportedGenerator,
    output: str | None,
    *,
    num_samples: int = 64,
    seed: int = 0,
    truncation: float | None = None,
    interpolate: int = 0,
    label: int | None = None,
    output_dir: str | None = None,
    batch_size: int = BATCH_SIZE,
    max_grid_pixels: int = MAX_GRID_PIXELS,
) -> int:
    """Writes a grid of samples (or, with `interpolate`, an N-step latent interpolation
    strip) to `output`, and with `output_dir` each image as its own PNG.

    The outputs are checked before anything is generated; the images are generated
    `batch_size` at a time and each batch is written as it comes.

    Args:
        generator: the exported generator (or any callable `(latents, label) ->
            images` with a `latent_dim` and an `image_shape`).
        output: the image file of the grid or strip (its extension picks the format, see
            `keras_models.images.IMAGE_FORMATS`), or None or '' for none.
        num_samples: images in the grid.
        seed: seed of the latents.
        truncation: the truncation threshold (see `truncated_latents`), or None.
        interpolate: 0 for a grid, else the number of steps of a strip between two
            latents (at least 2).
        label: the class of every image (conditional generators), or None.
        output_dir: a folder for each image as `{i:05d}.png`, or None.
        batch_size: latents per call of the generator (the images do not depend on it).
        max_grid_pixels: the largest grid written (see `keras_models.images`); more
            images are refused before any is generated.

    Returns:
        The number of images generated.

    Raises:
        ValueError: for `num_samples` < 1, `interpolate` of 1 or less than 0, a
            truncation that is not positive, neither `output` nor `output_dir`, or an
            output that cannot be written (see `_check_grid_output`).
    """
    if num_samples < 1 or interpolate < 0 or interpolate == 1:
        raise ValueError(
            "Expected num_samples >= 1 and interpolate = 0 or >= 2 (the strip's steps). "
            f"Received: num_samples={num_samples}, interpolate={interpolate}."
        )
    if not output and not output_dir:
        raise ValueError(
            "Expected --output (a grid) or --output_dir (a file per image). Received: "
            "--output='' and no --output_dir, so nothing to write."
        )
    count = interpolate or num_samples
    grid = None
    if output:
        shape = ImageGrid.shape(count, generator.image_shape, interpolate or None)
        _check_grid_output(output, shape, count, max_grid_pixels)
        grid = ImageGrid(count, generator.image_shape, interpolate or None)
    if output_dir:
        check_writable("--output_dir", output_dir, output_dir)
        os.makedirs(output_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    if interpolate:
        a, b = truncated_latents(rng, 2, generator.latent_dim, truncation)
        latents = np.stack([slerp(a, b, t) for t in np.linspace(0, 1, interpolate)])
    else:
        latents = truncated_latents(rng, num_samples, generator.latent_dim, truncation)
    index = 0
    for images in generate_batches(generator, latents, label, batch_size):
        if grid is not None:
            grid.add(images)
        if output_dir:
            for image in to_pixels(images):
                save_png(image, os.path.join(output_dir, f"{index:05d}.png"))
                index += 1
    if grid is not None:
        save_png(grid.pixels, output)
    return count


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
            images` with a `latent_dim` and an `image_shape`).
        train_images: (N, H, W, C) training images in [-1, 1].
        output: the image file to write (see `keras_models.images.IMAGE_FORMATS`).
        seed: seed of the samples' latents.
        label: the class of every sample (conditional generators), or None.
        count: samples (rows).
        k: neighbours per sample.

    Raises:
        ValueError: an output that cannot be written (see `_check_grid_output`).
    """
    shape = ImageGrid.shape(count * (k + 1), generator.image_shape, k + 1)
    _check_grid_output(output, shape, count * (k + 1))
    latents = truncated_latents(np.random.default_rng(seed), count, generator.latent_dim)
    samples = generator(latents, label)
    indices, _ = nearest_neighbours(samples, train_images, k=k)
    rows = np.concatenate([samples[:, None], train_images[indices]], axis=1)
    save_png(image_grid(rows.reshape(-1, *rows.shape[2:]), k + 1), output)


def metric_latents(
    seed: int | Sequence[int], num: int, latent_dim: int, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Latents and labels of the fakes a metric measures, as the authors draw them:
    untruncated standard normal latents, then labels uniform over the classes, both from
    one NumPy generator seeded by `seed`.

    Args:
        seed: the generator's seed (e.g. `(run seed, step)` for fresh draws per step).
        num: how many.
        latent_dim: the latent dimension.
        num_classes: the classes of a conditional generator, or None.

    Returns:
        float32 (num, latent_dim) latents and int32 (num,) labels (None: unconditional).
    """
    rng = np.random.default_rng(seed)
    latents = truncated_latents(rng, num, latent_dim)
    if num_classes is None:
        return latents, None
    return latents, rng.integers(0, num_classes, num).astype(np.int32)


def metric_fakes(
    generator: ExportedGenerator,
    num: int,
    *,
    seed: int = 0,
    num_classes: int | None = None,
    label: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[np.ndarray]:
    """The fakes a metric measures: `num` images of fresh latents, in batches.

    The latents are drawn untruncated (the papers' protocol) from `seed`. A conditional
    generator's labels are drawn uniformly over `num_classes` from the same generator,
    as the authors' evaluations draw them, unless `label` fixes every one.

    Args:
        generator: the exported generator.
        num: how many images.
        seed: seed of the latents (and labels).
        num_classes: the classes of a conditional generator (None: unconditional).
        label: the class of every image instead of uniform labels, or None.
        batch_size: latents per call of the generator (the images do not depend on it).

    Yields:
        float32 (batch, H, W, C) images in [-1, 1], grouped by class when conditional.

    Raises:
        ValueError: for a label the generator does not take (see `ExportedGenerator`).
    """
    latents, labels = metric_latents(
        seed, num, generator.latent_dim, None if label is not None else num_classes
    )
    if labels is None:
        yield from generate_batches(generator, latents, label, batch_size)
        return
    # The export takes one label per call: each class's latents go in their own batches.
    for c in range(num_classes):
        yield from generate_batches(generator, latents[labels == c], c, batch_size)
