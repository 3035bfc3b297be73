"""Input pipelines for GAN training: tfds datasets with paper subsets, and image folders.

Both return a `tf.data.Dataset` of float32 NHWC images in [-1, 1] (or `(images, labels)`
with `with_labels=True`), batched with `drop_remainder=True` so that every step sees the
same global batch, which is what `strategy.experimental_distribute_dataset` expects.

Subsets (`percent=` / `num_images=`) are chosen once, deterministically:

* labelled datasets are sampled per class (stratified), so a 10% subset of CIFAR-10 has
  exactly 10% of each class (500 images per class); per-class counts are rounded by
  largest remainder, ties to the lower class id;
* within a class (or the whole split when unlabelled) the images are the first ones of a
  permutation drawn from `numpy.random.default_rng(subset_seed)`;
* the chosen indices refer to the split's canonical order (`shuffle_files=False`), so
  the same `(name, split, percent, subset_seed)` gives the same images on every machine.
  `subset_indices()` returns them, e.g. to save beside a checkpoint.

Pipeline order: decode -> center-crop + resize -> cache (uint8) -> shuffle -> repeat ->
x-flip -> scale to [-1, 1] -> batch -> prefetch.
"""

import concurrent.futures
import dataclasses
import os
import warnings

import numpy as np
import tensorflow as tf
from PIL import Image

from keras_models import emoji

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


def select_subset(num_total, size, labels=None, seed=0):
    """Chooses `size` of `num_total` indices, stratified by label when labels are given.

    Args:
        num_total: number of examples in the split.
        size: how many to keep, in [1, num_total].
        labels: optional int array (num_total,); with it each class keeps its share.
        seed: seed of the permutation.

    Returns:
        Sorted int64 array of `size` indices.
    """
    if not 0 < size <= num_total:
        raise ValueError(
            f"Expected a subset size in [1, {num_total}]. Received: size={size}. "
            "Check `percent` / `num_images`."
        )
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.permutation(num_total)[:size])
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * size / num_total
    take = np.floor(quota).astype(np.int64)
    # Largest remainder; a stable sort breaks ties toward the lower class id.
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: size - take.sum()]] += 1
    chosen = [
        rng.permutation(np.flatnonzero(labels == c))[:n] for c, n in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def subset_size(num_total, percent, num_images):
    if percent is not None and num_images is not None:
        raise ValueError(
            "Expected at most one of `percent` and `num_images`. "
            f"Received: percent={percent}, num_images={num_images}"
        )
    if percent is not None:
        if not 0 < percent <= 100:
            raise ValueError(f"Expected 0 < percent <= 100. Received: percent={percent}")
        return int(round(num_total * percent / 100))
    return num_images


def tfds_num_classes(name, label_key="label", data_dir=None):
    """Number of classes of a labelled tfds dataset (reads its metadata only)."""
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


def not_prepared_message(name, builder):
    """What to do about a tfds dataset that is not prepared in its data folder."""
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


def _subset_indices(builder, split, percent, num_images, subset_seed, image_key, label_key):
    import tensorflow_datasets as tfds

    if percent is None and num_images is None:
        return None
    # One pass over the split without decoding images, to count and read labels.
    ds = builder.as_dataset(
        split=split, shuffle_files=False, decoders={image_key: tfds.decode.SkipDecoding()}
    )
    has_labels = label_key in builder.info.features
    ds = ds.map(lambda ex: ex[label_key] if has_labels else tf.constant(0, tf.int64))
    labels = np.fromiter(ds.as_numpy_iterator(), np.int64)
    size = subset_size(len(labels), percent, num_images)
    return select_subset(len(labels), size, labels if has_labels else None, subset_seed)


def subset_indices(
    name,
    split="train",
    percent=None,
    num_images=None,
    *,
    subset_seed=0,
    data_dir=None,
    download=False,
    image_key="image",
    label_key="label",
):
    """The indices, in the split's canonical order, of the images `load_tfds` keeps.

    Same arguments as `load_tfds`. Returns None when neither `percent` nor `num_images`
    is given (the whole split is used).
    """
    builder = _builder(name, data_dir, download, image_key)
    return _subset_indices(builder, split, percent, num_images, subset_seed, image_key, label_key)


def load_tfds(
    name,
    split="train",
    percent=None,
    num_images=None,
    resolution=None,
    *,
    batch_size=64,
    with_labels=False,
    x_flip=False,
    shuffle=True,
    repeat=True,
    cache=True,
    seed=0,
    subset_seed=0,
    shuffle_buffer=10_000,
    data_dir=None,
    download=False,
    image_key="image",
    label_key="label",
):
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
        subset_seed: seed of the subset choice (see the module docstring).
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
    """
    builder = _builder(name, data_dir, download, image_key)
    has_labels = label_key in builder.info.features
    if with_labels and not has_labels:
        raise ValueError(
            f"Expected a label feature {label_key!r} in {name!r} for with_labels=True. "
            f"Received features: {list(builder.info.features.keys())}."
        )
    indices = _subset_indices(
        builder, split, percent, num_images, subset_seed, image_key, label_key
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
    return _finish(ds, batch_size, with_labels, x_flip, shuffle, shuffle_buffer, repeat, seed)


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


def to_float(images):
    """uint8 pixels (tensor or NumPy) -> float32 tensor in [-1, 1]: x / 127.5 - 1."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _finish(ds, batch_size, with_labels, x_flip, shuffle, shuffle_buffer, repeat, seed):
    """uint8 images (and labels) -> shuffled, flipped, [-1, 1] float32 batches."""
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


def folder_classes(path):
    """The class names of `image_folder(path, labels=True)`: sorted sub-folder names."""
    names = sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    if not names:
        raise ValueError(
            f"Expected one sub-folder per class in {path!r} for labels=True. Received: no "
            "sub-folders."
        )
    return names


def _list_images(path, labels):
    if not os.path.isdir(path):
        raise ValueError(f"Expected an image folder. Received: path={path!r} (not a folder).")
    roots = [(path, 0)]
    if labels:
        roots = [(os.path.join(path, c), i) for i, c in enumerate(folder_classes(path))]
    files = []
    for root, label in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            files += [
                (os.path.join(dirpath, f), label)
                for f in sorted(filenames)
                if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")
            ]
    if not files:
        raise ValueError(
            f"Expected images ({', '.join(IMAGE_EXTENSIONS)}) in {path!r}. Received: a folder "
            "with none (searched recursively)."
        )
    return files


def load_image(file, resolution):
    """Reads one image file as uint8 (resolution, resolution, 3) RGB.

    Transparent pixels are composited on white (emoji and icons have transparent
    backgrounds, which would otherwise turn black), grayscale (8- and 16-bit), palette
    and CMYK images become RGB, then the image is center-cropped to a square and resized
    with Lanczos filtering (as StyleGAN's dataset tool does).

    Raises:
        ValueError: for a floating-point image (mode F), whose range is unknown.
    """
    with Image.open(file) as image:
        image.load()
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
            # 16-bit grayscale: Pillow's RGB conversion clips every value above 255, so
            # the image would turn white; scale 0..65535 to 0..255 instead.
            levels = np.asarray(image, np.float64) / 257.0
            image = Image.fromarray(np.clip(np.round(levels), 0, 255).astype(np.uint8), "L")
        elif image.mode == "F":
            raise ValueError(
                f"Expected an 8- or 16-bit image. Received: {file!r}, a 32-bit float image "
                "(mode F) whose value range is unknown; convert it to 8-bit first."
            )
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            image = image.convert("RGBA")
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, image)
        image = image.convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(image, np.uint8)


class UnreadableImageError(ValueError):
    """An image file that cannot be decoded: `file` names it, `reason` says why."""

    def __init__(self, file, reason):
        super().__init__(
            f"Could not read image file {file!r}: {reason}. Fix or remove it, or pass "
            "on_error='skip' to leave it out."
        )
        self.file, self.reason = file, reason


def read_images(path, resolution, *, labels=False, on_error="raise", num_workers=None):
    """Reads an image folder into memory (what `image_folder` feeds from).

    Args:
        path: the folder; searched recursively for PNG, JPEG and WebP files.
        resolution: output side.
        labels: label each image by its first-level sub-folder (see `folder_classes`).
        on_error: "raise" raises an `UnreadableImageError` (a `ValueError`) naming the
            unreadable file; "skip" leaves it out with a warning.
        num_workers: decoding threads (default: CPU count).

    Returns:
        `(images, labels, files)`: uint8 (N, resolution, resolution, 3), int32 (N,) or
        None, and the list of the N files read, in sorted path order.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"Expected on_error in ('raise', 'skip'). Received: {on_error!r}")
    entries = _list_images(path, labels)

    def read(file):
        try:
            return load_image(file, resolution)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            if on_error == "raise":
                raise UnreadableImageError(file, error) from error
            return None

    with concurrent.futures.ThreadPoolExecutor(num_workers or os.cpu_count()) as pool:
        decoded = list(pool.map(read, [f for f, _ in entries]))
    skipped = [f for (f, _), image in zip(entries, decoded, strict=True) if image is None]
    if skipped:
        warnings.warn(f"Skipped {len(skipped)} unreadable image file(s): {skipped}", stacklevel=2)
    kept = [
        (entry, image) for entry, image in zip(entries, decoded, strict=True) if image is not None
    ]
    if not kept:
        raise ValueError(f"Expected readable images in {path!r}. Received: none could be read.")
    images = np.stack([image for _, image in kept])
    label_array = np.array([label for (_, label), _ in kept], np.int32) if labels else None
    return images, label_array, [f for (f, _), _ in kept]


def image_folder(
    path,
    resolution,
    *,
    batch_size=64,
    labels=False,
    x_flip=False,
    shuffle=True,
    repeat=True,
    seed=0,
    on_error="raise",
    num_workers=None,
):
    """An image folder as a GAN input pipeline (few-shot sets, the emoji set).

    ```python
    ds = keras_models.data.image_folder("data/100-shot-obama", resolution=256)
    ```

    The images are decoded once into memory as uint8 at `resolution` (see
    `read_images`), which suits the few-shot and emoji sets (100 images at 256 px take
    20 MB); for datasets that do not fit in memory, write a tfds dataset instead.

    Args:
        path: the folder (searched recursively).
        resolution: output side (center crop + Lanczos resize).
        batch_size: global batch size; the last partial batch is dropped, so the
            folder needs at least `batch_size` images when `repeat=False`.
        labels: yield `(images, labels)` with labels from first-level sub-folders.
        x_flip: random horizontal flips, seeded by `seed`.
        shuffle: full shuffle every epoch, seeded by `seed`.
        repeat: repeat forever.
        seed: seed of shuffling and flipping.
        on_error: "raise" (error naming the file) or "skip" (warning) for unreadable
            files.
        num_workers: decoding threads.

    Returns:
        A `tf.data.Dataset` of float32 (batch, resolution, resolution, 3) images in
        [-1, 1], or `(images, labels)` with `labels=True`.
    """
    images, label_array, _ = read_images(
        path, resolution, labels=labels, on_error=on_error, num_workers=num_workers
    )
    if not repeat and len(images) < batch_size:
        raise ValueError(
            f"Expected at least batch_size={batch_size} images with repeat=False (partial "
            f"batches are dropped). Received: {len(images)} images in {path!r}."
        )
    return from_arrays(
        images,
        label_array,
        batch_size=batch_size,
        x_flip=x_flip,
        shuffle=shuffle,
        repeat=repeat,
        seed=seed,
    )


def from_arrays(
    images, labels=None, *, batch_size=64, x_flip=False, shuffle=True, repeat=True, seed=0
):
    """In-memory uint8 images (and labels) as a GAN input pipeline.

    Args:
        images: uint8 (N, H, W, C) array.
        labels: optional int (N,) array; the dataset then yields `(images, labels)`.
        batch_size, x_flip, shuffle, repeat, seed: as in `image_folder` (full shuffle).

    Returns:
        A `tf.data.Dataset` of float32 (batch, H, W, C) images in [-1, 1] (and labels).
    """
    with_labels = labels is not None
    ds = tf.data.Dataset.from_tensor_slices((images, labels) if with_labels else images)
    return _finish(ds, batch_size, with_labels, x_flip, shuffle, len(images), repeat, seed)


def emoji_faces(resolution=64, **kwargs):
    """The shipped 169-image Noto emoji "Smileys & Emotion" set (see keras_models.emoji).

    Args:
        resolution: output side (the files are 64x64).
        **kwargs: `image_folder` arguments.
    """
    return image_folder(emoji.FACES_DIR, resolution, **kwargs)


@dataclasses.dataclass
class TrainingData:
    """A training pipeline plus the real images that evaluation needs.

    Attributes:
        dataset: infinite, deterministic `tf.data.Dataset` of batches (images, or
            `(images, labels)` when conditional).
        num_classes: the number of classes when conditional, else None.
        images, labels: training reals as float32 NumPy in [-1, 1] (and int labels or
            None), for metrics and nearest neighbours.
        heldout: `(images, labels)` never trained on (D's overfitting signal), or None.
    """

    dataset: tf.data.Dataset
    num_classes: int | None
    images: np.ndarray
    labels: np.ndarray | None
    heldout: tuple | None


def load_training_data(
    name,
    resolution,
    *,
    batch_size,
    conditional=False,
    x_flip=False,
    seed=0,
    percent=None,
    num_images=None,
    holdout=0,
    num_eval_images=2048,
    data_dir=None,
    download=False,
):
    """The data of a training run: an image folder, "emoji_faces" or a tfds dataset.

    Args:
        name: an image folder, "emoji_faces" (the shipped set) or a tfds name.
        resolution: image side.
        batch_size: images per pipeline batch.
        conditional: labels from the folder's sub-folders or the tfds label feature.
        x_flip, seed: as in `load_tfds` (`seed` also chooses the subset and held-out set).
        percent, num_images: the training subset (see `select_subset`).
        holdout: folder images held out of training, for D's overfitting signal (tfds
            datasets use up to 1000 test-split images instead).
        num_eval_images: tfds training images kept in memory for evaluation (a folder
            keeps all of its training images).
        data_dir, download: where a tfds dataset is prepared, and whether tfds may
            download it (as in `load_tfds`).

    Raises:
        ValueError: for a path that is not a folder, a folder without readable images,
            a tfds dataset not prepared in `data_dir` (without `download`), or a
            held-out set that leaves no training images.
    """
    common = dict(batch_size=batch_size, x_flip=x_flip, seed=seed)
    if is_image_folder(name):
        folder = emoji.FACES_DIR if name == "emoji_faces" else name
        return _folder_training_data(
            folder, resolution, conditional, percent, num_images, holdout, common
        )
    if os.path.sep in name or name.startswith("."):
        raise ValueError(
            f"Expected an image folder or a tfds name. Received: dataset={name!r}, which "
            "is not a folder."
        )
    subset = dict(
        percent=percent, num_images=num_images, resolution=resolution, with_labels=conditional
    )
    source = dict(data_dir=data_dir, download=download)

    first = lambda split, count: tfds_images(name, split, resolution, count, conditional, **source)
    images, labels = first("train", num_eval_images)
    return TrainingData(
        dataset=load_tfds(name, "train", **subset, **common, **source),
        num_classes=tfds_num_classes(name, data_dir=data_dir) if conditional else None,
        images=images,
        labels=labels,
        heldout=first("test", min(len(images), 1000)),
    )


def tfds_images(
    name, split, resolution, count=None, with_labels=False, *, data_dir=None, download=False
):
    """The first `count` images of a tfds split (all when None), in their stored order.

    `data_dir` and `download` are as in `load_tfds`.

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


def is_image_folder(name):
    """Whether a dataset name is an image folder (or the shipped "emoji_faces")."""
    return name == "emoji_faces" or os.path.isdir(name)


def reference_images(name, resolution, split, training_images, *, data_dir=None):
    """The real images that FID, KID and IS compare generated images with.

    Args:
        name: the dataset, as `load_training_data` takes it.
        resolution: image side.
        split: "test" or "train", or None: the test split of a tfds dataset (the paper's
            CIFAR protocol), the training images of a folder (which has no other).
        training_images: the run's training images (a folder's reference).
        data_dir: the tfds data folder (as in `load_tfds`).

    Returns:
        `(images, split)`.

    Raises:
        ValueError: for split "test" with an image folder.
    """
    folder = is_image_folder(name)
    split = split or ("train" if folder else "test")
    if not folder:
        return tfds_images(name, split, resolution, data_dir=data_dir)[0], split
    if split == "test":
        raise ValueError(
            f"Expected fid_split=train for an image folder, which has only its training "
            f"images. Received: fid_split=test with dataset={name!r}."
        )
    return training_images, split


def _folder_training_data(folder, resolution, conditional, percent, num_images, holdout, common):
    images, labels, _ = read_images(folder, resolution, labels=conditional)
    if holdout >= len(images):
        raise ValueError(
            f"Expected holdout < the {len(images)} images of {folder!r}, so that some are "
            f"left to train on. Received: holdout={holdout}."
        )
    order = np.random.default_rng(common["seed"]).permutation(len(images))
    held, train = order[:holdout], order[holdout:]
    pick = lambda idx: None if labels is None else labels[idx]
    if percent is not None or num_images is not None:
        size = subset_size(len(train), percent, num_images)
        train = train[select_subset(len(train), size, pick(train), common["seed"])]
    as_float = lambda idx: np.asarray(to_float(images[idx]))
    return TrainingData(
        dataset=from_arrays(images[train], pick(train), **common),
        num_classes=len(folder_classes(folder)) if conditional else None,
        images=as_float(train),
        labels=pick(train),
        heldout=(as_float(held), pick(held)) if holdout else None,
    )
