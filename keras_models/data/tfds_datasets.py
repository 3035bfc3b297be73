"""tfds image datasets (e.g. CIFAR-10) as GAN input pipelines, with the paper's subsets.

A dataset is read from a prepared copy in its data folder (downloaded only on request),
in the split's canonical order (`shuffle_files=False`), so that a subset (see
`keras_models.data.subsets`) names the same images on every machine;
`subset_indices()` returns them, e.g. to save beside a checkpoint.

Pipeline order: decode -> center-crop + resize -> cache (uint8) -> the shared tail of
`keras_models.data.pipeline` (shuffle, repeat, x-flip, scale, batch, prefetch).
"""

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from keras_models.data.pipeline import finish
from keras_models.data.subsets import check_subset, choose_subset, is_subset

if TYPE_CHECKING:  # tfds itself is imported where it is used: it is slow to import
    import tensorflow_datasets as tfds


def tfds_num_classes(name: str, label_key: str = "label", data_dir: str | None = None) -> int:
    """Number of classes of a labelled tfds dataset (reads its metadata only).

    Raises:
        ValueError: when the dataset has no `label_key` feature.
    """
    import tensorflow_datasets as tfds

    features = tfds.builder(name, data_dir=data_dir).info.features
    if label_key not in features:
        raise ValueError(
            f"Expected a label feature {label_key!r} in {name!r} for a conditional model. "
            f"Received features: {list(features.keys())}."
        )
    return features[label_key].num_classes


def _builder(name, data_dir, download, image_key):
    # Imported here: tfds is slow to import and image-folder users never need it.
    import tensorflow_datasets as tfds
    from absl import logging

    # An unprepared dataset makes tfds warn that a version folder has no
    # dataset_info.json; the error below says what to do instead.
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        # Checked without the network first: tfds would otherwise retry its downloads
        # for minutes offline and leave a partial folder behind.
        prepared = builder.is_prepared()
        if not prepared and not download:
            raise ValueError(not_prepared_message(name, builder))
    finally:
        logging.set_verbosity(verbosity)
    if not prepared:
        builder.download_and_prepare()
    if image_key not in builder.info.features:
        raise ValueError(
            f"Expected an image feature {image_key!r} in tfds dataset {name!r}. Received "
            f"features: {list(builder.info.features.keys())}. Pass `image_key=`."
        )
    return builder


def not_prepared_message(name: str, builder: "tfds.core.DatasetBuilder") -> str:
    """What to do about a tfds dataset that is not prepared in its data folder.

    Args:
        name: the tfds name.
        builder: its `tfds.core.DatasetBuilder`.
    """
    return (
        f"Expected a prepared copy of the tfds dataset {name!r} in "
        f"{str(builder.data_dir_root)!r}. Received: it is not prepared there "
        f"({str(builder.data_path)!r} is missing or incomplete) and download=False. "
        f"Either prepare it on a machine with internet access (`tfds build {name} "
        f"--data_dir=DIR`, or `tfds.builder({name!r}, data_dir=DIR).download_and_prepare()`), "
        "copy DIR here and pass data_dir=DIR (train.py: --data_dir=DIR); or let tfds "
        "download it now with download=True (train.py: --download); or train on a local "
        "image folder (train.py: --dataset=FOLDER)."
    )


def _subset_indices(
    builder, split, percent, num_images, subset_seed, subset_selection, image_key, label_key
):
    import tensorflow_datasets as tfds

    check_subset(percent, num_images)
    if not is_subset(percent, num_images):
        return None
    # One pass over the split without decoding images, to count and read labels.
    ds = builder.as_dataset(
        split=split, shuffle_files=False, decoders={image_key: tfds.decode.SkipDecoding()}
    )
    has_labels = label_key in builder.info.features
    ds = ds.map(lambda ex: ex[label_key] if has_labels else tf.constant(0, tf.int64))
    labels = np.fromiter(ds.as_numpy_iterator(), np.int64)
    return choose_subset(
        len(labels),
        percent,
        num_images,
        labels if has_labels else None,
        subset_seed,
        subset_selection,
    )


def subset_indices(
    name: str,
    split: str = "train",
    percent: float | None = None,
    num_images: int | None = None,
    *,
    subset_seed: int = 0,
    subset_selection: str = "stratified",
    data_dir: str | None = None,
    download: bool = False,
    image_key: str = "image",
    label_key: str = "label",
) -> np.ndarray | None:
    """The indices, in the split's canonical order, of the images `load_tfds` keeps.

    Its arguments (name, split, percent, num_images, subset_seed, subset_selection,
    data_dir, download, image_key, label_key) are those of `load_tfds`.

    Returns:
        Sorted int64 indices, or None when neither `percent` nor `num_images` is given
        (the whole split is used).
    """
    builder = _builder(name, data_dir, download, image_key)
    return _subset_indices(
        builder, split, percent, num_images, subset_seed, subset_selection, image_key, label_key
    )


def load_tfds(
    name: str,
    split: str = "train",
    percent: float | None = None,
    num_images: int | None = None,
    resolution: int | None = None,
    *,
    batch_size: int = 64,
    with_labels: bool = False,
    x_flip: bool = False,
    shuffle: bool = True,
    repeat: bool = True,
    cache: bool | str = True,
    seed: int = 0,
    subset_seed: int = 0,
    subset_selection: str = "stratified",
    shuffle_buffer: int = 10_000,
    data_dir: str | None = None,
    download: bool = False,
    image_key: str = "image",
    label_key: str = "label",
) -> tf.data.Dataset:
    """A tfds image dataset (e.g. "cifar10", "cifar100") as a GAN input pipeline.

    ```python
    ds = keras_models.data.load_tfds("cifar10", split="train", percent=10, resolution=32)
    ```

    Args:
        name: tfds name, e.g. "cifar10".
        split: tfds split, e.g. "train" or "test".
        percent: keep this percentage of the split (the paper's 10% / 20% subsets).
        num_images: or keep this many images (few-shot sizes). At most one of the two.
        resolution: output side; images are center-cropped to a square and resized
            (bilinear, antialiased). None keeps the native size.
        batch_size: global batch size; the last partial batch is dropped.
        with_labels: yield `(images, labels)` (int32) for conditional models.
        x_flip: random horizontal flips (dataset augmentation, independent of
            DiffAugment), seeded by `seed`.
        shuffle: shuffle with a `shuffle_buffer`-element buffer, seeded by `seed`,
            reshuffled every epoch.
        repeat: repeat forever (use `steps_per_epoch` in `fit`).
        cache: True caches the decoded, resized uint8 images in memory; a string caches
            them to that file prefix; False does not cache.
        seed: seed of shuffling and flipping.
        subset_seed: seed of the subset choice (see `keras_models.data.subsets`).
        subset_selection: how the subset is chosen: "stratified" (class-balanced),
            "uniform" (the BigGAN-CIFAR code's draw) or "first" (the first images).
        shuffle_buffer: shuffle buffer size (10,000 shuffles a 10% CIFAR subset fully).
        data_dir: tfds data folder (None: tfds's default, `$TFDS_DATA_DIR` or
            `~/tensorflow_datasets`).
        download: let tfds download and prepare the dataset when `data_dir` has no
            prepared copy (needs internet). Without it, a missing dataset raises a
            `ValueError` at once, saying how to prepare it.
        image_key: the image feature's name.
        label_key: the label feature's name (its absence means unlabelled).

    Returns:
        A `tf.data.Dataset` of float32 (batch, H, W, C) images in [-1, 1], or
        `(images, labels)` with `with_labels=True`.

    Raises:
        ValueError: for a dataset not prepared in `data_dir` (without `download`), a
            missing image or label feature, or bad subset arguments.
    """
    builder = _builder(name, data_dir, download, image_key)
    has_labels = label_key in builder.info.features
    if with_labels and not has_labels:
        raise ValueError(
            f"Expected a label feature {label_key!r} in {name!r} for with_labels=True. "
            f"Received features: {list(builder.info.features.keys())}."
        )
    indices = _subset_indices(
        builder, split, percent, num_images, subset_seed, subset_selection, image_key, label_key
    )
    ds = builder.as_dataset(split=split, shuffle_files=False)
    if indices is not None:
        keep = np.zeros(indices[-1] + 1, bool)
        keep[indices] = True
        keep = tf.constant(keep)
        # take() first, so that every enumerated index is inside the mask.
        ds = ds.take(len(keep)).enumerate().filter(lambda i, ex: tf.gather(keep, i))
        ds = ds.map(lambda i, ex: ex)

    def prepare(ex):
        image = _crop_resize(ex[image_key], resolution)
        return (image, tf.cast(ex[label_key], tf.int32)) if with_labels else image

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache("" if cache is True else cache)
    return finish(ds, batch_size, with_labels, x_flip, shuffle, shuffle_buffer, repeat, seed)


def _crop_resize(image, resolution):
    """uint8 HWC -> center-cropped square, resized to `resolution`, uint8."""
    if resolution is None or image.shape[:2] == (resolution, resolution):
        return image
    shape = tf.shape(image)
    side = tf.minimum(shape[0], shape[1])
    image = tf.image.crop_to_bounding_box(
        image, (shape[0] - side) // 2, (shape[1] - side) // 2, side, side
    )
    image = tf.image.resize(image, [resolution, resolution], "bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)


def tfds_images(
    name: str,
    split: str,
    resolution: int | None,
    count: int | None = None,
    with_labels: bool = False,
    *,
    data_dir: str | None = None,
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The first `count` images of a tfds split (all when None), in their stored order.

    Args:
        name, split, resolution: as in `load_tfds`.
        count: how many images, or None for all.
        with_labels: also return the labels.
        data_dir, download: as in `load_tfds`.

    Returns:
        `(images, labels)`: float32 (N, H, W, C) NumPy in [-1, 1], and int labels (or
        None without `with_labels`).
    """
    ds = load_tfds(
        name,
        split,
        resolution=resolution,
        with_labels=True,
        batch_size=1,
        shuffle=False,
        repeat=False,
        data_dir=data_dir,
        download=download,
    )
    pairs = list((ds if count is None else ds.take(count)).unbatch().as_numpy_iterator())
    labels = np.array([p[1] for p in pairs]) if with_labels else None
    return np.stack([p[0] for p in pairs]), labels
