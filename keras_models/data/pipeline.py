"""The pipeline tail every source shares: uint8 images in, [-1, 1] float32 batches out.

Order: shuffle -> repeat -> x-flip -> scale to [-1, 1] -> batch -> prefetch. Batches
are built with `drop_remainder=True` so that every step sees the same global batch,
which is what `strategy.experimental_distribute_dataset` expects.
"""

import numpy as np
import tensorflow as tf


def to_float(images: np.ndarray | tf.Tensor) -> tf.Tensor:
    """uint8 pixels (tensor or NumPy) -> float32 tensor in [-1, 1]: x / 127.5 - 1."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def finish(
    ds: tf.data.Dataset,
    batch_size: int,
    with_labels: bool,
    x_flip: bool,
    shuffle: bool,
    shuffle_buffer: int,
    repeat: bool,
    seed: int,
) -> tf.data.Dataset:
    """uint8 images (or `(images, labels)`) -> shuffled, flipped, [-1, 1] float32 batches.

    Args:
        ds: a dataset of single uint8 (H, W, C) images, or `(image, label)` pairs.
        batch_size: global batch size; the last partial batch is dropped.
        with_labels: whether `ds` yields `(image, label)` pairs.
        x_flip: random horizontal flips, stateless per element (seeded by `seed` and
            the element's position).
        shuffle: shuffle with a `shuffle_buffer`-element buffer, reshuffled every epoch.
        shuffle_buffer: the shuffle buffer's size.
        repeat: repeat forever.
        seed: seed of shuffling and flipping.

    Returns:
        A deterministic `tf.data.Dataset` of float32 batches (and labels), sharded by
        element when distributed.
    """
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def flip_and_scale(i, item):
        image, label = item if with_labels else (item, None)
        if x_flip:
            # Stateless per element (seed, position): reproducible, no hidden state.
            image = tf.image.stateless_random_flip_left_right(image, tf.stack([seed, i]))
        image = to_float(image)
        return (image, label) if with_labels else image

    ds = ds.enumerate().map(flip_and_scale, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    # Files or in-memory tensors: shard by element, so that any source distributes.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True
    return ds.with_options(options)


def from_arrays(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int = 64,
    x_flip: bool = False,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """In-memory uint8 images (and labels) as a GAN input pipeline.

    Args:
        images: uint8 (N, H, W, C) array.
        labels: optional int (N,) array; the dataset then yields `(images, labels)`.
        batch_size: global batch size; the last partial batch is dropped.
        x_flip: random horizontal flips, seeded by `seed`.
        shuffle: full shuffle every epoch, seeded by `seed`.
        repeat: repeat forever.
        seed: seed of shuffling and flipping.

    Returns:
        A `tf.data.Dataset` of float32 (batch, H, W, C) images in [-1, 1] (and labels).
    """
    with_labels = labels is not None
    ds = tf.data.Dataset.from_tensor_slices((images, labels) if with_labels else images)
    return finish(ds, batch_size, with_labels, x_flip, shuffle, len(images), repeat, seed)
