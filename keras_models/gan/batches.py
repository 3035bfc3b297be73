"""The batches of a GAN train step: the dataset batch, checked and split between the D
steps, and the latents and fake labels drawn for it.

Latents and fake labels are drawn for the global batch and each replica keeps its rows,
so they do not depend on the replica count (`tf_diffaug.DiffAugment` instead folds the
replica id into its seeds: replicas are augmented independently). Draws come from a
`keras.random.SeedGenerator`, so that they compile with XLA and resume exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from keras_models.conditioning import check_labels, random_labels
from keras_models.gan.distribution import num_replicas, replica_rows
from keras_models.gan.validation import batch_split_message


def unpack(data: Any, num_classes: int | None) -> tuple[tf.Tensor, tf.Tensor | None]:
    """`(images, labels)` of a dataset element: images, or `(images, labels)` when
    conditional, labels int32 (B,) checked by `conditioning.check_labels`.

    Raises:
        ValueError: for a conditional GAN's element without labels, or with labels that
            are not integer class ids of shape (B,) (one-hot labels, for one).
        tf.errors.InvalidArgumentError: when run, for a label out of range.
    """
    if num_classes is None:
        images = data[0] if isinstance(data, (tuple, list)) else data
        return images, None
    if not isinstance(data, (tuple, list)) or len(data) < 2:
        raise ValueError(
            "A conditional GAN (num_classes set) expects a dataset of (images, labels). "
            f"Received: {data!r}"
        )
    return data[0], check_labels(data[1], num_classes, num=data[0].shape[0])


def split_batch(
    images: tf.Tensor, labels: tf.Tensor | None, parts: int
) -> tuple[Callable[[Any], tuple[tf.Tensor, tf.Tensor | None]], tf.Tensor]:
    """The split of a train step's batch between its `parts` (`d_steps_per_g_step`) D
    steps, in order: the dataset is batched by `batch_size * d_steps_per_g_step`.

    Returns:
        `(part, size)`: `part(i)` is the `(images, labels)` of D step i (a Python int or
        an int32 tensor); `size` is the images per part, per replica (the G step's batch).

    Raises:
        ValueError: for a batch that `parts` does not divide, when traced.
        tf.errors.InvalidArgumentError: when run, for such a batch of a size unknown when
            traced.
    """
    if parts == 1:
        return (lambda i: (images, labels)), tf.shape(images)[0]
    batch = images.shape[0]
    if batch is None:
        # Known only when run (NumPy input, whose last batch Keras leaves partial, or a
        # generator): named then, rather than by the reshape. XLA compiles it away.
        batch = tf.shape(images)[0]
        message = batch_split_message(parts, "a batch of")
        check = tf.debugging.Assert(batch % parts == 0, [message, batch, "images (per replica)."])
        with tf.control_dependencies([check]):
            images = tf.identity(images)
    elif batch % parts:
        raise ValueError(batch_split_message(parts, f"a batch of {batch} images (per replica)."))
    split = lambda x: None if x is None else tf.reshape(x, [parts, -1, *x.shape[1:]])
    images, labels = split(images), split(labels)
    part = lambda i: (images[i], None if labels is None else labels[i])
    return part, tf.shape(images)[1]


def latents(local_batch: tf.Tensor, latent_dim: int, seed: keras.random.SeedGenerator) -> Any:
    """Normal latents (local_batch, latent_dim): this replica's rows of a global draw."""
    draws = keras.random.normal((local_batch * num_replicas(), latent_dim), seed=seed)
    return replica_rows(draws, local_batch)


def fake_labels(
    local_batch: tf.Tensor,
    real_labels: tf.Tensor | None,
    *,
    num_classes: int | None,
    mode: str,
    seed: keras.random.SeedGenerator,
) -> tf.Tensor | None:
    """Labels for a batch of fakes: None (unconditional), the reals' labels
    (`mode="reals"`), or uniform draws (`mode="random"`, as the authors' BigGAN code
    draws for every D and G step): this replica's rows of a global draw."""
    if num_classes is None or mode == "reals":
        return real_labels
    draws = random_labels(local_batch * num_replicas(), num_classes, seed=seed)
    return replica_rows(draws, local_batch)
