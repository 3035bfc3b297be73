"""Inception Score (Salimans et al., 2016), as TF-GAN defines it from classifier logits."""

import numpy as np
import numpy.typing as npt


def _log_softmax(logits: np.ndarray, axis: int) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def inception_score(logits: npt.ArrayLike, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))), computed on `splits` consecutive parts.

    Args:
        logits: (N, C) classifier logits (the 1008-way Inception logits for the standard
            IS).
        splits: number of parts; part i is rows [i*N//splits, (i+1)*N//splits).

    Returns:
        `(mean, std)` of the per-part scores, as Python floats (float64 math).
    """
    logits = np.asarray(logits, np.float64)
    if logits.ndim != 2 or len(logits) < splits:
        raise ValueError(
            f"Expected (N, C) logits with N >= splits={splits}. Received: shape {logits.shape}"
        )
    log_p = _log_softmax(logits, axis=1)
    n = len(log_p)
    scores = []
    for i in range(splits):
        part = log_p[i * n // splits : (i + 1) * n // splits]
        # log p(y) = log mean_x p(y|x), computed stably in log space.
        log_py = _log_mean_exp(part)
        kl = np.sum(np.exp(part) * (part - log_py), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _log_mean_exp(log_p: np.ndarray) -> np.ndarray:
    peak = log_p.max(axis=0)
    return peak + np.log(np.mean(np.exp(log_p - peak), axis=0))
