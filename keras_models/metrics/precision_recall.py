"""Improved precision and recall (Kynkäänniemi et al., 2019) on any (N, D) features.

Each set of features stands for a manifold: the union of balls around its points, the
ball of a point reaching to its k-th nearest neighbour in the same set (k = 3; the point
itself is not its own neighbour). Precision is the fraction of generated samples inside
the real manifold (how many fakes look real); recall is the fraction of real samples
inside the generated manifold (how much of the real variety the generator covers). A
sample on a ball's boundary is inside (distance <= radius), as in the authors' code and
StyleGAN2-ADA's `metrics/precision_recall.py`.

Distances are Euclidean, computed with TensorFlow in row batches so that memory grows
with `batch_size * N` rather than `N * N`, in float64 (so that the result does not hinge
on rounding near a radius).
"""

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import tensorflow as tf

from keras_models.metrics.features import check_features

NEIGHBOURHOOD = 3


def _squared_distances(rows: tf.Tensor, columns: tf.Tensor, columns_sq: tf.Tensor) -> tf.Tensor:
    """(B, M) squared Euclidean distances, clipped at 0 against rounding."""
    rows_sq = tf.reduce_sum(rows * rows, axis=1, keepdims=True)
    cross = tf.matmul(rows, columns, transpose_b=True)
    return tf.maximum(rows_sq - 2.0 * cross + columns_sq[None, :], 0.0)


def _batches(features: tf.Tensor, batch_size: int) -> Iterator[tf.Tensor]:
    return (features[i : i + batch_size] for i in range(0, len(features), batch_size))


def _radii_squared(points: tf.Tensor, k: int, batch_size: int) -> tf.Tensor:
    """Squared distance of each row of `points` (a float64 tensor) to its k-th nearest
    other row."""
    if len(points) <= k:
        raise ValueError(f"Expected more than k={k} features. Received: {len(points)}")
    points_sq = tf.reduce_sum(points * points, axis=1)
    radii = []
    for batch in _batches(points, batch_size):
        # The k+1 smallest include the point itself (distance 0).
        nearest = -tf.math.top_k(-_squared_distances(batch, points, points_sq), k + 1).values
        radii.append(nearest[:, k])
    return tf.concat(radii, 0)


def manifold_radii(
    features: npt.ArrayLike, k: int = NEIGHBOURHOOD, batch_size: int = 1024
) -> np.ndarray:
    """Distance of each point to its k-th nearest other point of the same set.

    Args:
        features: (N, D) array, N > k.
        k: neighbourhood size.
        batch_size: rows of the distance matrix computed at once.

    Returns:
        float64 NumPy (N,) radii.
    """
    points = tf.constant(check_features(features, "features"))
    return np.sqrt(_radii_squared(points, k, batch_size).numpy())


def manifold_coverage(
    manifold: npt.ArrayLike, probes: npt.ArrayLike, k: int = NEIGHBOURHOOD, batch_size: int = 1024
) -> float:
    """Fraction of `probes` within the k-NN radius of at least one `manifold` point.

    Args:
        manifold: (N, D) features that define the manifold.
        probes: (M, D) features to test.
        k: neighbourhood size.
        batch_size: rows of the distance matrix computed at once.

    Returns:
        A Python float in [0, 1].
    """
    manifold_array = check_features(manifold, "manifold")
    probes_array = check_features(probes, "probes")
    if manifold_array.shape[1] != probes_array.shape[1]:
        raise ValueError(
            "Expected features of one dimension. Received: "
            f"{manifold_array.shape} and {probes_array.shape}"
        )
    points = tf.constant(manifold_array)
    radii_sq = _radii_squared(points, k, batch_size)
    points_sq = tf.reduce_sum(points * points, axis=1)
    inside = [
        tf.reduce_any(_squared_distances(batch, points, points_sq) <= radii_sq[None, :], axis=1)
        for batch in _batches(tf.constant(probes_array), batch_size)
    ]
    return float(tf.reduce_mean(tf.cast(tf.concat(inside, 0), tf.float64)))


def precision_recall(
    real_features: npt.ArrayLike,
    fake_features: npt.ArrayLike,
    k: int = NEIGHBOURHOOD,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Improved precision and recall of generated features against real ones.

    Args:
        real_features: (N, D) features of real images.
        fake_features: (M, D) features of generated images (same extractor).
        k: neighbourhood size (3 in the paper).
        batch_size: rows of the distance matrix computed at once.

    Returns:
        `(precision, recall)` as Python floats in [0, 1]; higher is better.
    """
    precision = manifold_coverage(real_features, fake_features, k, batch_size)
    recall = manifold_coverage(fake_features, real_features, k, batch_size)
    return precision, recall
