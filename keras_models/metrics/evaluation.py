"""Metric results that carry their protocol, and cached reference statistics.

A FID is only comparable to another FID computed with the same feature extractor (file
checksum), resize method, number of real and fake images, real split and treatment of
the fakes. Generated images are quantised to 8 bits before any metric (`quantize`), as
the authors' evaluation code does, so that fakes are measured like the stored reals. Every
`MetricResult` records these in `protocol`, and `ReferenceStatistics` refuses a cache
file made under another protocol, so that numbers are not compared across protocols by
accident.
"""

import dataclasses
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import tensorflow as tf

from keras_models.metrics.emoji_features import EmojiFeatures
from keras_models.metrics.features import FeatureExtractor, Images
from keras_models.metrics.fid import feature_statistics, frechet_distance_from_statistics
from keras_models.metrics.inception_score import inception_score
from keras_models.metrics.kid import kernel_distance
from keras_models.metrics.precision_recall import precision_recall
from keras_models.metrics.swd import sliced_wasserstein_per_scale

SWD_EXTRACTOR = "laplacian-pyramid 7x7 patches (ProGAN SWD)"
FAKE_QUANTIZATION = "uint8, floor((x + 1) * 127.5 + 0.5)"


def quantize(images: Images) -> np.ndarray | tf.data.Dataset:
    """Generated images in [-1, 1] rounded to the 256 levels of an 8-bit image.

    The authors' BigGAN (`inception_tf.py`) and StyleGAN2 (`convert_images_to_uint8`)
    evaluations feed Inception uint8 fakes: `floor((x + 1) * 127.5 + 0.5)`, clipped to
    [0, 255]. Returned back in [-1, 1] (as float32), where the extractors take images.

    Args:
        images: float array (N, H, W, C), or a `tf.data.Dataset` of such batches (or of
            `(images, labels)` tuples).

    Returns:
        A float32 array for an array, a dataset of float32 batches (images only) for a
        dataset.
    """
    if isinstance(images, tf.data.Dataset):
        first = lambda batch, *rest: batch
        return images.map(first).map(lambda x: tf.numpy_function(quantize, [x], tf.float32))
    levels = np.floor(np.clip((np.asarray(images, np.float32) + 1.0) * 127.5 + 0.5, 0, 255))
    return (levels / 127.5 - 1.0).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class MetricResult:
    """A metric value with its spread (when it has one) and the protocol it was made under.

    Attributes:
        name: "fid", "kid", "is", "precision", "recall" or "swd".
        value: the metric (Python float).
        std: its standard deviation over subsets/splits, or None.
        protocol: dict with at least feature_extractor, extractor_sha256, resize,
            num_real, num_fake and split.
    """

    name: str
    value: float
    std: float | None
    protocol: dict[str, Any]

    def __float__(self) -> float:
        return self.value


class ReferenceStatistics:
    """Real-image features for one dataset and protocol, cached as `.npz`.

    Holds the (N, D) features (KID needs them) and their float64 mean and covariance (FID
    needs those). Build with `ReferenceStatistics.compute`.

    Args:
        features: (N, D) features of real images.
        protocol: dict describing how they were made (see `compute`).
    """

    def __init__(self, features: npt.ArrayLike, protocol: dict[str, Any]) -> None:
        self.features = np.asarray(features, np.float32)
        self.mu, self.sigma = feature_statistics(self.features)
        self.protocol = dict(protocol, num_real=len(self.features))

    def save(self, path: str) -> None:
        """Writes features, mean, covariance and the protocol (as JSON) to `path` (.npz)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        np.savez(
            path,
            features=self.features,
            mu=self.mu,
            sigma=self.sigma,
            protocol=json.dumps(self.protocol, sort_keys=True),
        )

    @classmethod
    def load(cls, path: str) -> "ReferenceStatistics":
        """Reads a file written by `save`."""
        with np.load(path) as data:
            return cls(data["features"], json.loads(str(data["protocol"])))

    @classmethod
    def compute(
        cls,
        extractor: FeatureExtractor,
        images: Images,
        *,
        dataset: str,
        split: str,
        cache_path: str | None = None,
    ) -> "ReferenceStatistics":
        """Features of real images, from `cache_path` when it matches the protocol.

        Args:
            extractor: a `FeatureExtractor`, e.g. `InceptionFeatures` or `EmojiFeatures`.
            images: real images in [-1, 1] (array or dataset) for `extractor`.
            dataset: dataset name recorded in the protocol, e.g. "cifar10".
            split: split recorded in the protocol, e.g. "train".
            cache_path: `.npz` to read if present (and valid) or write.

        Returns:
            A `ReferenceStatistics`.
        """
        protocol = dict(extractor.protocol, dataset=dataset, split=split)
        if cache_path and os.path.exists(cache_path):
            cached = cls.load(cache_path)
            found = {k: cached.protocol.get(k) for k in protocol}
            if found != protocol:
                raise ValueError(
                    f"Expected the cached reference {cache_path!r} to match protocol "
                    f"{protocol}. Received: {found}. Delete it or use another cache_path."
                )
            return cached
        reference = cls(extractor(images)[0], protocol)
        if cache_path:
            reference.save(cache_path)
        return reference


FEATURE_METRICS = ("fid", "kid", "is", "pr")


def evaluate_inception(
    extractor: FeatureExtractor,
    reference: ReferenceStatistics,
    fake_images: Images,
    *,
    metrics: Sequence[str] = ("fid", "kid", "is"),
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    is_splits: int = 10,
    pr_neighbourhood: int = 3,
) -> dict[str, MetricResult]:
    """FID, KID, IS and precision/recall of generated images against real features.

    Args:
        extractor: the `FeatureExtractor` that made `reference`: an `InceptionFeatures`,
            or the offline `EmojiFeatures` (whose numbers are not Inception's; no IS).
        reference: `ReferenceStatistics` of the real images.
        fake_images: generated images in [-1, 1] (array or dataset); quantised to 8
            bits first (`quantize`).
        metrics: which of "fid", "kid", "is" and "pr" (precision and recall) to compute.
        kid_subsets: KID subsets.
        kid_subset_size: KID subset size.
        is_splits: Inception Score splits.
        pr_neighbourhood: k of the precision/recall k-NN manifolds.

    Returns:
        `{name: MetricResult}` for the names asked for, "pr" giving "precision" and
        "recall".
    """
    unknown = [m for m in metrics if m not in FEATURE_METRICS]
    if unknown:
        raise ValueError(f"Expected metrics from {FEATURE_METRICS}. Received: {unknown}")
    if "is" in metrics and isinstance(extractor, EmojiFeatures):
        raise ValueError(
            "Expected an InceptionFeatures for the Inception Score (it is defined on "
            "Inception's ImageNet classes). Received: the offline EmojiFeatures."
        )
    if reference.protocol.get("extractor_sha256") != extractor.protocol["extractor_sha256"]:
        raise ValueError(
            "Expected reference statistics made with the same feature extractor. Received: "
            f"{reference.protocol.get('extractor_sha256')} vs "
            f"{extractor.protocol['extractor_sha256']}."
        )
    features, logits = extractor(quantize(fake_images))
    protocol = dict(reference.protocol, num_fake=len(features), fakes=FAKE_QUANTIZATION)
    results = {}
    if "fid" in metrics:
        fid = frechet_distance_from_statistics(
            reference.mu, reference.sigma, *feature_statistics(features)
        )
        results["fid"] = MetricResult("fid", fid, None, protocol)
    if "kid" in metrics:
        kid, kid_std = kernel_distance(reference.features, features, kid_subsets, kid_subset_size)
        kid_protocol = dict(protocol, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size)
        results["kid"] = MetricResult("kid", kid, kid_std, kid_protocol)
    if "is" in metrics:
        score, score_std = inception_score(logits, is_splits)
        results["is"] = MetricResult("is", score, score_std, dict(protocol, is_splits=is_splits))
    if "pr" in metrics:
        pr = precision_recall(reference.features, features, k=pr_neighbourhood)
        pr_protocol = dict(protocol, pr_neighbourhood=pr_neighbourhood)
        for name, value in zip(("precision", "recall"), pr, strict=True):
            results[name] = MetricResult(name, value, None, pr_protocol)
    return results


def evaluate_swd(
    real_images: np.ndarray,
    fake_images: np.ndarray,
    *,
    split: str | None = None,
    seed: int = 0,
) -> MetricResult:
    """Multi-scale SWD with its protocol; `protocol["per_scale"]` has each scale's value.

    The fakes are quantised to 8 bits first (`quantize`), as the reals were stored."""
    per_scale = sliced_wasserstein_per_scale(real_images, quantize(fake_images), seed)
    count = min(len(real_images), len(fake_images))
    protocol = {
        "feature_extractor": SWD_EXTRACTOR,
        "extractor_sha256": None,
        "resize": "none",
        "num_real": count,
        "num_fake": count,
        "split": split,
        "fakes": FAKE_QUANTIZATION,
        "seed": seed,
        "per_scale": {str(k): v for k, v in per_scale.items()},
    }
    return MetricResult("swd", float(np.mean(list(per_scale.values()))), None, protocol)
