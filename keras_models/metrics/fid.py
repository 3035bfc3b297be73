"""Fréchet Inception Distance (Heusel et al., 2017), as TF-GAN and pytorch-fid define it."""

import numpy as np
import scipy.linalg


def _features(features, name):
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"Expected {name} as a (N, D) array with N >= 2. Received: shape {features.shape}"
        )
    return features


def feature_statistics(features):
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, in float64."""
    features = _features(features, "features")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)).

    The matrix square root is SciPy's (float64). As in pytorch-fid, a singular product
    (fewer samples than dimensions) is retried with `eps` added to both diagonals, and a
    numerically complex root is accepted only when its imaginary diagonal is negligible.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(
            "Expected statistics of the same dimension. Received: "
            f"{mu1.shape}/{sigma1.shape} and {mu2.shape}/{sigma2.shape}"
        )
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(
                "The matrix square root has a large imaginary component "
                f"({np.max(np.abs(covmean.imag)):.3g}); use more samples."
            )
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(real_features, fake_features):
    """FID between two sets of (N, D) features (Inception pool_3 for the standard FID).

    Args:
        real_features: (N, D) array.
        fake_features: (M, D) array.

    Returns:
        The Fréchet distance as a Python float (computed in float64).
    """
    real = _features(real_features, "real_features")
    fake = _features(fake_features, "fake_features")
    return frechet_distance_from_statistics(*feature_statistics(real), *feature_statistics(fake))
