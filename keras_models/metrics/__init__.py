"""GAN metrics: FID, KID, IS and precision/recall on features, and the weight-free SWD.

FID/KID/IS follow TF-GAN's definitions (whose package no longer imports on current
TensorFlow) and compute in float64 on NumPy (N, D) features; precision/recall follows
Kynkäänniemi et al. (2019). A `FeatureExtractor` makes the features: `InceptionFeatures`
from a local `classify_image_graph_def.pb`; without it, the shipped offline
`EmojiFeatures` (not Inception numbers). SWD needs no weights. `noise_floors` measures
what each metric reads between two sets of real images, to tell a difference from noise.
"""

from keras_models.metrics.emoji_features import EmojiFeatures, feature_extractor
from keras_models.metrics.evaluation import (
    MetricResult,
    ReferenceStatistics,
    evaluate_inception,
    evaluate_swd,
    quantize,
)
from keras_models.metrics.features import FeatureExtractor, check_features
from keras_models.metrics.fid import (
    feature_statistics,
    frechet_distance,
    frechet_distance_from_statistics,
)
from keras_models.metrics.inception import InceptionFeatures, inception_input
from keras_models.metrics.inception_score import inception_score
from keras_models.metrics.kid import kernel_distance
from keras_models.metrics.noise import NoiseFloor, load_noise_floors, noise_floors
from keras_models.metrics.precision_recall import (
    manifold_coverage,
    manifold_radii,
    precision_recall,
)
from keras_models.metrics.swd import sliced_wasserstein, sliced_wasserstein_per_scale

__all__ = [
    "EmojiFeatures",
    "FeatureExtractor",
    "InceptionFeatures",
    "MetricResult",
    "NoiseFloor",
    "ReferenceStatistics",
    "check_features",
    "evaluate_inception",
    "evaluate_swd",
    "feature_extractor",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "inception_input",
    "inception_score",
    "kernel_distance",
    "load_noise_floors",
    "manifold_coverage",
    "manifold_radii",
    "noise_floors",
    "precision_recall",
    "quantize",
    "sliced_wasserstein",
    "sliced_wasserstein_per_scale",
]
