"""Fréchet Inception Distance (Heusel et al., 2017), as TF-GAN and pytorch-fid define it."""

import numpy as np
import numpy.typing as npt

from keras_models.metrics.features import check_features


def feature_statistics(features: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, in float64."""
    features = check_features(features, "features")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((sigma1 sigma2)^(1/2)) for symmetric positive semi-definite sigma1, sigma2.

    TF-GAN's route: sigma1 sigma2 is similar to A sigma2 A with A = sigma1^(1/2), which is
    symmetric PSD, so the trace is the sum of the square roots of its eigenvalues. Two
    symmetric eigendecompositions replace a general matrix square root (`sqrtm`): 5x
    faster at 2048 dimensions (2.0 s against 10.6 s on 2 CPU cores), always real, and
    defined for singular covariances (fewer samples than dimensions) without an offset.
    """
    root = _psd_sqrt(sigma1)
    eigenvalues = np.linalg.eigvalsh(root @ sigma2 @ root)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def frechet_distance_from_statistics(
    mu1: npt.ArrayLike, sigma1: npt.ArrayLike, mu2: npt.ArrayLike, sigma2: npt.ArrayLike
) -> float:
    """||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)), in float64."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(
            "Expected statistics of the same dimension. Received: "
            f"{mu1.shape}/{sigma1.shape} and {mu2.shape}/{sigma2.shape}"
        )
    diff = mu1 - mu2
    return float(
        diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    )


def frechet_distance(real_features: npt.ArrayLike, fake_features: npt.ArrayLike) -> float:
    """FID between two sets of (N, D) features (Inception pool_3 for the standard FID).

    Args:
        real_features: (N, D) array.
        fake_features: (M, D) array.

    Returns:
        The Fréchet distance as a Python float (computed in float64).
    """
    real = check_features(real_features, "real_features")
    fake = check_features(fake_features, "fake_features")
    return frechet_distance_from_statistics(*feature_statistics(real), *feature_statistics(fake))
