"""A training run's data: its pipeline, its reals for evaluation and its held-out set.

The dataset is named as train.py's `--dataset` names it: an image folder, the shipped
"emoji_faces", or a tfds name.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from keras_models.data.folders import FACES_DIR, UnreadableImageError, folder_classes, read_images
from keras_models.data.pipeline import from_arrays, to_float
from keras_models.data.subsets import choose_subset
from keras_models.data.tfds_datasets import load_tfds, tfds_images, tfds_num_classes

# A run's loader has no `on_error`: the remedy for a bad file is in the folder.
FOLDER_ADVICE = "Fix it or remove it from the dataset folder."


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


def is_image_folder(name: str) -> bool:
    """Whether a dataset name is an image folder (or the shipped "emoji_faces")."""
    return name == "emoji_faces" or os.path.isdir(name)


def load_training_data(
    name: str,
    resolution: int,
    *,
    batch_size: int,
    conditional: bool = False,
    x_flip: bool = False,
    seed: int = 0,
    percent: float | None = None,
    num_images: int | None = None,
    subset_selection: str = "stratified",
    holdout: int = 0,
    num_eval_images: int = 2048,
    data_dir: str | None = None,
    download: bool = False,
) -> TrainingData:
    """The data of a training run: an image folder, "emoji_faces" or a tfds dataset.

    Args:
        name: an image folder, "emoji_faces" (the shipped set) or a tfds name.
        resolution: image side.
        batch_size: images per pipeline batch.
        conditional: labels from the folder's sub-folders or the tfds label feature.
        x_flip, seed: as in `load_tfds` (`seed` also chooses the subset and held-out set).
        percent, num_images: the training subset (see `keras_models.data.subsets`).
        subset_selection: how the subset is chosen, one of
            `keras_models.data.subsets.SUBSET_SELECTIONS`.
        holdout: folder images held out of training, for D's overfitting signal (tfds
            datasets use up to 1000 test-split images instead).
        num_eval_images: tfds training images kept in memory for evaluation (a folder
            keeps all of its training images).
        data_dir, download: where a tfds dataset is prepared, and whether tfds may
            download it (as in `load_tfds`).

    Returns:
        The run's `TrainingData`.

    Raises:
        UnreadableImageError: for an image file of the folder that cannot be read.
        ValueError: for a path that is not a folder, a folder without readable images,
            a tfds dataset not prepared in `data_dir` (without `download`), or a
            held-out set that leaves no training images.
    """
    common = dict(batch_size=batch_size, x_flip=x_flip, seed=seed)
    if is_image_folder(name):
        folder = FACES_DIR if name == "emoji_faces" else name
        subset = (percent, num_images, subset_selection)
        return _folder_training_data(folder, resolution, conditional, subset, holdout, common)
    if os.path.sep in name or name.startswith("."):
        raise ValueError(
            f"Expected an image folder or a tfds name. Received: dataset={name!r}, which "
            "is not a folder."
        )
    subset = dict(
        percent=percent,
        num_images=num_images,
        subset_seed=seed,
        subset_selection=subset_selection,
        resolution=resolution,
        with_labels=conditional,
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


def reference_images(
    name: str,
    resolution: int,
    split: str | None,
    training_images: np.ndarray,
    *,
    data_dir: str | None = None,
) -> tuple[np.ndarray, str]:
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


def _folder_training_data(folder, resolution, conditional, subset, holdout, common):
    percent, num_images, selection = subset
    try:
        images, labels, _ = read_images(folder, resolution, labels=conditional)
    except UnreadableImageError as error:
        raise UnreadableImageError(error.file, error.reason, FOLDER_ADVICE) from error.__cause__
    if holdout >= len(images):
        raise ValueError(
            f"Expected holdout < the {len(images)} images of {folder!r}, so that some are "
            f"left to train on. Received: holdout={holdout}."
        )
    order = np.random.default_rng(common["seed"]).permutation(len(images))
    held, train = order[:holdout], order[holdout:]
    if selection != "stratified":
        # The authors' rules name images by the dataset's own order, not the hold-out's
        # permutation (kept for "stratified", whose choices predate the other rules).
        train = np.sort(train)
    pick = lambda idx: None if labels is None else labels[idx]
    chosen = choose_subset(len(train), percent, num_images, pick(train), common["seed"], selection)
    if chosen is not None:
        train = train[chosen]
    as_float = lambda idx: np.asarray(to_float(images[idx]))
    return TrainingData(
        dataset=from_arrays(images[train], pick(train), **common),
        num_classes=len(folder_classes(folder)) if conditional else None,
        images=as_float(train),
        labels=pick(train),
        heldout=(as_float(held), pick(held)) if holdout else None,
    )
