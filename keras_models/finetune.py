"""Starting a new run from the networks of a trained `GAN` (train.py `--init_from`).

`load_initial_weights(gan, path)` copies the generator, discriminator and EMA generator
weights of a trained GAN into `gan`, and nothing else: the optimizers, the step counter
and the random streams start afresh, as a new run does (stylegan2-ada-pytorch's
`--resume` for transfer learning, which FreezeD fine-tunes with). `path` is

- a run directory of train.py: its latest checkpoint;
- a checkpoint prefix (`.../checkpoints/ckpt-N`), written from `GAN.checkpoint_items()`;
- a `.weights.h5` file written by `GAN.save_weights` (e.g. a run's `best.weights.h5`).

Every weight is read and compared (count and shape, network by network) before any is
assigned, so a source of another architecture raises `InitFromError` naming the first
differing variables with both shapes, and `gan` is left as it was. A source without an
EMA generator initialises the EMA copy from its generator.
"""

import os
import re
import tempfile

import h5py
import keras
import numpy as np
import tensorflow as tf

from keras_models.checkpoint_files import checkpoint_paths
from keras_models.gan import GAN
from keras_models.run_dir import RunDirectory

NETWORKS = ("generator", "discriminator", "ema_generator")
# Differences listed in a mismatch error.
_SHOWN = 5


class InitFromError(ValueError):
    """`--init_from` names no readable GAN, or one whose architecture differs."""


def _networks(gan):
    """{network: its weights} of `gan`, in the order checkpoints store them."""
    weights = {"generator": gan.generator.weights, "discriminator": gan.discriminator.weights}
    if gan.ema_generator is not None:
        weights["ema_generator"] = gan.ema_generator.weights
    return weights


def find_source(path: str) -> tuple[str, str]:
    """The checkpoint prefix or `.weights.h5` file that `path` names.

    Args:
        path: a run directory, a checkpoint prefix or a `.weights.h5` file.

    Returns:
        `(kind, file)`: kind "checkpoint" (file a checkpoint prefix) or "weights".

    Raises:
        InitFromError: when `path` does not exist or holds no checkpoint.
    """
    expected = (
        "Expected --init_from to be a run directory, a checkpoint prefix (.../ckpt-N) or "
        "a .weights.h5 file of a keras_models.GAN."
    )
    if os.path.isdir(path):
        checkpoints = RunDirectory(path).checkpoints
        found = checkpoint_paths(checkpoints)
        if not found:
            raise InitFromError(
                f"{expected} Received: {path!r}, a folder without checkpoints (no "
                f"ckpt-<step>.index file in {checkpoints!r})."
            )
        return "checkpoint", found[-1]
    if path.endswith(".weights.h5") and os.path.isfile(path):
        return "weights", path
    if os.path.isfile(path + ".index"):
        return "checkpoint", path
    prefix = re.sub(r"\.(index|data-\d+-of-\d+)$", "", path)
    if prefix != path and os.path.isfile(prefix + ".index"):
        raise InitFromError(
            f"{expected} Received: {path!r}, one file of the checkpoint "
            f"{prefix!r}: give the checkpoint by its prefix, {prefix!r}."
        )
    if os.path.isfile(path):
        raise InitFromError(
            f"{expected} Received: {path!r}, a file that is neither (a checkpoint is named "
            "by its prefix, without .index; a weights file ends in .weights.h5)."
        )
    raise InitFromError(f"{expected} Received: {path!r}, which does not exist.")


def _checkpoint_arrays(prefix):
    """{network: [arrays]} of a GAN checkpoint, by position (`GAN.checkpoint_items`)."""
    reader = tf.train.load_checkpoint(prefix)
    keys = reader.get_variable_to_shape_map()
    arrays = {}
    value = "/.ATTRIBUTES/VARIABLE_VALUE"
    for network in NETWORKS:
        prefix = f"{network}_weights/"
        count = sum(1 for k in keys if k.startswith(prefix) and k.endswith(value))
        if count:
            arrays[network] = [reader.get_tensor(f"{prefix}{i}{value}") for i in range(count)]
    return arrays


def _h5_datasets(path, networks):
    """{network: [(name, shape)]} of the datasets under each network's group."""
    listing = {}
    with h5py.File(path, "r") as f:
        for network in networks:
            if network in f:
                found = []
                f[network].visititems(
                    lambda name, item, found=found: (
                        found.append((name, item.shape)) if isinstance(item, h5py.Dataset) else None
                    )
                )
                listing[network] = found
    return listing


def _weights_file_arrays(path, gan):
    """{network: [arrays]} of a `GAN.save_weights` file, read through a GAN of `gan`'s
    networks (Keras stores weights by layer, not by position)."""
    source = _h5_datasets(path, NETWORKS)
    if "generator" not in source or "discriminator" not in source:
        raise InitFromError(
            f"Expected a .weights.h5 file of a keras_models.GAN (with generator and "
            f"discriminator groups). Received: {path!r}, with groups {sorted(source)}."
        )
    donor = GAN(
        keras.models.clone_model(gan.generator),
        keras.models.clone_model(gan.discriminator),
        latent_dim=gan.latent_dim,
        num_classes=gan.num_classes,
        ema_decay=0.5 if "ema_generator" in source else None,
    )
    with tempfile.TemporaryDirectory() as folder:
        reference = os.path.join(folder, "reference.weights.h5")
        donor.save_weights(reference)
        expected = _h5_datasets(reference, source)
    for network in source:
        _check_shapes(
            network,
            [f"{network}/{name}" for name, _ in expected[network]],
            [shape for _, shape in expected[network]],
            [shape for _, shape in source[network]],
            path,
        )
    donor.load_weights(path)
    return {network: [w.numpy() for w in weights] for network, weights in _networks(donor).items()}


def _check_shapes(network, names, shapes, source_shapes, path):
    """Raises `InitFromError` listing the first positions where the shapes differ."""
    if list(shapes) == list(source_shapes):
        return
    rows = []
    for i in range(max(len(shapes), len(source_shapes))):
        ours = tuple(shapes[i]) if i < len(shapes) else "none"
        theirs = tuple(source_shapes[i]) if i < len(source_shapes) else "none"
        if ours != theirs:
            name = names[i] if i < len(names) else f"{network} weight {i}"
            rows.append(f"{name}: this model {ours}, source {theirs}")
    raise InitFromError(
        f"Expected --init_from to hold this run's architecture. Received: {path!r}, whose "
        f"{network} differs in {len(rows)} of its weights ({len(source_shapes)} weights; "
        f"this run's has {len(shapes)}). The first: " + "; ".join(rows[:_SHOWN]) + ". Use "
        "the source run's --model, --model_preset, --resolution, --width and --conditional."
    )


def load_initial_weights(gan: GAN, path: str) -> str:
    """Copies the G, D and EMA G weights of the trained GAN at `path` into `gan`.

    Args:
        gan: a `keras_models.GAN` of the source's architecture (built, as it is after
            construction).
        path: a run directory, a checkpoint prefix or a `.weights.h5` file.

    Returns:
        The file read (the checkpoint prefix or the weights file).

    Raises:
        InitFromError: `path` is missing, unreadable or of another architecture; `gan`
            is then unchanged.
    """
    kind, file = find_source(path)
    try:
        arrays = (
            _checkpoint_arrays(file) if kind == "checkpoint" else _weights_file_arrays(file, gan)
        )
    except InitFromError:
        raise
    # A damaged file fails in TensorFlow's reader, h5py or Keras, each in its own way.
    except Exception as error:  # noqa: BLE001
        raise InitFromError(
            f"Expected a readable GAN checkpoint or weights file. Received: {file!r}, which "
            f"could not be read ({type(error).__name__}: {str(error).splitlines()[0]})."
        ) from error
    targets = _networks(gan)
    if "generator" not in arrays or "discriminator" not in arrays:
        raise InitFromError(
            f"Expected a checkpoint of a keras_models.GAN (generator and discriminator "
            f"weights). Received: {file!r}, with {sorted(arrays) or 'neither'}."
        )
    if "ema_generator" in targets and "ema_generator" not in arrays:
        arrays["ema_generator"] = arrays["generator"]
    for network, weights in targets.items():
        _check_shapes(
            network,
            [w.path for w in weights],
            [w.shape for w in weights],
            [a.shape for a in arrays[network]],
            file,
        )
    for network, weights in targets.items():
        for weight, value in zip(weights, arrays[network], strict=True):
            weight.assign(np.asarray(value, dtype=weight.dtype))
    gan._standing_statistics_step = None  # the EMA generator's statistics are stale
    return file
