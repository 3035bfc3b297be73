"""Features, the metrics' common input: the `FeatureExtractor` contract and feature arrays.

FID, KID, the Inception Score and precision/recall all read (N, D) features (and IS the
class logits) made by a feature extractor. `FeatureExtractor` states what an extractor
provides (`InceptionFeatures` and the offline `EmojiFeatures` both implement it),
`run_in_batches` is how they feed images to their network, and `check_features` is the
one check of a feature array that every metric applies.
"""

from collections.abc import Callable
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt
import tensorflow as tf

Images: TypeAlias = np.ndarray | tf.Tensor | tf.data.Dataset
"""Images in [-1, 1]: a float (N, H, W, C) array or tensor, or a `tf.data.Dataset` of such
batches (or of `(images, labels)` tuples)."""


@runtime_checkable
class FeatureExtractor(Protocol):
    """What the metrics need of a feature extractor: features of images, and a protocol.

    A metric computed on features is only comparable with one computed on features of the
    same extractor (same weights, same resize): `protocol` says what those are, and every
    `MetricResult` and cached `ReferenceStatistics` records it.
    """

    @property
    def protocol(self) -> dict[str, Any]:
        """What a metric computed on these features depends on.

        At least `"feature_extractor"` (a description of the network and its outputs),
        `"extractor_sha256"` (the digest of its weights) and `"resize"` (how images are
        brought to the network's side).
        """
        ...

    def __call__(self, images: Images) -> tuple[np.ndarray, np.ndarray]:
        """Features of images in [-1, 1].

        Args:
            images: (N, H, W, 3) float array/tensor in [-1, 1], or a `tf.data.Dataset`
                of such batches (or of `(images, labels)` tuples).

        Returns:
            `(features, logits)`: float32 NumPy arrays (N, D) and (N, num_classes).
        """
        ...


def check_features(features: npt.ArrayLike, name: str) -> np.ndarray:
    """A metric's feature argument as a float64 (N, D) array with N >= 2.

    Args:
        features: an (N, D) array-like of features.
        name: the argument's name, for the error message.

    Returns:
        The features as a float64 NumPy array.

    Raises:
        ValueError: for an array of another rank or with fewer than 2 rows.
    """
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"Expected {name} as a (N, D) array with N >= 2. Received: shape {features.shape}"
        )
    return features


def run_in_batches(
    run: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]], images: Images, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """`run(batch) -> (features, logits)` over an array's batches or a dataset's batches.

    Args:
        run: function of a float32 (B, H, W, C) tensor returning two tensors.
        images: float array/tensor (N, H, W, C), or a `tf.data.Dataset` of such batches
            (or of `(images, labels)` tuples).
        batch_size: images per call for an array.

    Returns:
        The two outputs concatenated over batches, as float32 NumPy arrays.

    Raises:
        ValueError: for an input without images.
    """
    if isinstance(images, tf.data.Dataset):
        batches = (b[0] if isinstance(b, tuple) else b for b in images)
    else:
        images = np.asarray(images, np.float32)
        batches = (images[i : i + batch_size] for i in range(0, len(images), batch_size))
    features, logits = [], []
    for batch in batches:
        feature, logit = run(tf.cast(batch, tf.float32))
        features.append(feature.numpy())
        logits.append(logit.numpy())
    if not features:
        raise ValueError("Expected at least one image. Received: an empty input.")
    return np.concatenate(features), np.concatenate(logits)
