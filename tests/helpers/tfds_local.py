"""A tiny tfds dataset built offline, so that tests read it through tfds's real code path.

`tfds.testing.mock_data` replaces the builder's preparation and reading, so a dependency
that only those steps import (such as `importlib_resources`, which tfds's
`download_and_prepare` needs) is never exercised by it. `prepare` runs the real
`download_and_prepare` of a `GeneratorBasedBuilder` (it downloads nothing) into a data
folder, which the loaders then read like any prepared tfds dataset.
"""

import contextlib
from unittest import mock

import numpy as np
import tensorflow_datasets as tfds

NAME = "tiny_labelled_images"
RESOLUTION = 8
NUM_CLASSES = 3
SPLITS = {"train": 12, "test": 6}


def example_images(split):
    """The uint8 images of a split, in their stored order (what the builder writes)."""
    rng = np.random.default_rng(list(SPLITS).index(split))
    shape = (SPLITS[split], RESOLUTION, RESOLUTION, 3)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def example_labels(split):
    return np.arange(SPLITS[split]) % NUM_CLASSES


class TinyLabelledImages(tfds.core.GeneratorBasedBuilder):
    """8x8 RGB images with 3 classes; registered as "tiny_labelled_images"."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return self.dataset_info_from_configs(
            disable_shuffling=True,  # the stored order is the generated one
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(RESOLUTION, RESOLUTION, 3)),
                    "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),
                }
            ),
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        return {split: self._generate_examples(split) for split in SPLITS}

    def _generate_examples(self, split):
        pairs = zip(example_images(split), example_labels(split), strict=True)
        for i, (image, label) in enumerate(pairs):
            yield i, {"image": image, "label": int(label)}


def prepare(data_dir):
    """Builds the dataset into `data_dir` with tfds's real `download_and_prepare`."""
    tfds.builder(NAME, data_dir=str(data_dir)).download_and_prepare()
    return str(data_dir)


@contextlib.contextmanager
def mock_prepared(num_examples):
    """`tfds.testing.mock_data` with every dataset counted as prepared locally.

    Random data for any registered dataset (e.g. "cifar10"), read as from a prepared
    copy: a loader that tried to download it fails.
    """
    builder = tfds.core.DatasetBuilder
    with (
        tfds.testing.mock_data(num_examples=num_examples),
        mock.patch.object(builder, "is_prepared", return_value=True),
        mock.patch.object(builder, "download_and_prepare", side_effect=AssertionError),
    ):
        yield
