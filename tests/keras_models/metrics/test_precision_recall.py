"""keras_models.metrics.precision_recall against a direct NumPy computation."""

import numpy as np
import pytest

from keras_models import metrics


def _reference(real, fake, k=3):
    """Pairwise differences, full sort: the k-NN manifold definition written plainly."""
    dist = lambda a, b: np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    def coverage(manifold, probes):
        radii = np.sort(dist(manifold, manifold), axis=1)[:, k]  # column 0 is the point
        return np.mean([(dist(p[None], manifold)[0] <= radii).any() for p in probes])

    return coverage(real, fake), coverage(fake, real)


def test_precision_recall_matches_numpy_reference():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(150, 12))
    fake = 0.7 * rng.normal(size=(130, 12)) + 0.5  # narrower and shifted: P > R
    # batch_size below both counts, so that the batching is exercised.
    precision, recall = metrics.precision_recall(real, fake, batch_size=32)
    expected = _reference(real, fake)
    assert (precision, recall) == pytest.approx(expected, abs=1e-12)
    assert 0.1 < recall < precision < 1.0
    radii = metrics.manifold_radii(real, k=3, batch_size=40)
    d = np.sqrt(((real[:, None] - real[None]) ** 2).sum(-1))
    np.testing.assert_allclose(radii, np.sort(d, 1)[:, 3], rtol=1e-9)
    assert _reference(real, fake, k=1) == pytest.approx(metrics.precision_recall(real, fake, k=1))


def test_precision_recall_known_cases():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(64, 8)).astype(np.float32)
    assert metrics.precision_recall(real, real.copy()) == (1.0, 1.0)
    assert metrics.precision_recall(real, real + 100.0) == (0.0, 0.0)
    # Half the fakes are copies of reals, half far away: precision 1/2; the fakes'
    # manifold (radii reach across the gap only far away) still covers the copied reals.
    fake = np.concatenate([real[:32], real[32:] + 100.0])
    precision, recall = metrics.precision_recall(real, fake)
    assert precision == 0.5 and recall == pytest.approx(_reference(real, fake)[1])
    with pytest.raises(ValueError, match="more than k=3"):
        metrics.precision_recall(real[:3], real[:3])
    with pytest.raises(ValueError, match="one dimension"):
        metrics.precision_recall(real, real[:, :4])
