"""Kernel Inception Distance (Binkowski et al., 2018), as TF-GAN and the KID paper define it.

The squared MMD with the polynomial kernel k(x, y) = (x.y / d + 1)^3, estimated without
bias on random subsets; the result is the mean and standard deviation over subsets.
"""

import numpy as np
import numpy.typing as npt

from keras_models.metrics.features import check_features


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between (m, d) and (n, d) float64 features, cubic kernel."""
    d = x.shape[1]
    m, n = len(x), len(y)
    k_xx = (x @ x.T / d + 1.0) ** 3
    k_yy = (y @ y.T / d + 1.0) ** 3
    k_xy = (x @ y.T / d + 1.0) ** 3
    # Unbiased: the diagonal k(x_i, x_i) terms are left out of the within-set means.
    return float(
        (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
        + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
        - 2.0 * k_xy.mean()
    )


def kernel_distance(
    real_features: npt.ArrayLike,
    fake_features: npt.ArrayLike,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID: unbiased cubic-kernel MMD^2 averaged over random subsets.

    Each subset draws `min(subset_size, N, M)` real and fake features without
    replacement, from `numpy.random.default_rng(seed)`, as the KID paper's reference code
    does (its default is 100 subsets of 1000). Each subset's estimate is TF-GAN's block
    estimate (`kernel_classifier_distance_and_std_from_activations`), so their mean is
    unbiased too: it is about 0 for two samples of one distribution and can be negative.
    When both sets are no larger than `subset_size` every subset is all of them, so the
    estimate is computed once (and the std is 0).

    Args:
        real_features: (N, D) array.
        fake_features: (M, D) array.
        num_subsets: number of subsets.
        subset_size: features per set in each subset.
        seed: seed of the subset draws.

    Returns:
        `(mean, std)` over subsets, as Python floats.
    """
    real = check_features(real_features, "real_features")
    fake = check_features(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"Expected features of one dimension. Received: {real.shape} and {fake.shape}"
        )
    size = min(subset_size, len(real), len(fake))
    if size == len(real) == len(fake):  # every subset is the whole of both sets
        return float(polynomial_mmd2(real, fake)), 0.0
    rng = np.random.default_rng(seed)
    estimates = [
        polynomial_mmd2(
            real[rng.choice(len(real), size, replace=False)],
            fake[rng.choice(len(fake), size, replace=False)],
        )
        for _ in range(num_subsets)
    ]
    return float(np.mean(estimates)), float(np.std(estimates))
