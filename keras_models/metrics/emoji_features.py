"""An offline feature extractor for FID/KID/precision-recall where Inception is absent.

Inception-v3's weights cannot be downloaded on every machine, and without features FID,
KID and precision/recall cannot be computed at all. This module ships a small
convolutional classifier instead, trained by `benchmarks/train_feature_extractor.py` on
Twemoji (the npm package `emoji-datasource-twitter`, every emoji and skin-tone variant,
labelled by the package's ~100 subcategories): another vendor's artwork than the Noto
emoji the project trains GANs on, so the extractor never saw those images. Its features
are the 128-d global average of its last convolution, times a fixed scale (stored with
the weights) that gives them a mean square of 1 on the training images, so that KID's
cubic kernel (x.y / d + 1)^3 sees dot products of order 1, as with Inception features.

Numbers computed on these features are NOT Inception FID/KID: they are comparable only
with numbers made with the same weights (each result's protocol records their digest),
never with published values. Do not use them on a GAN trained on Twemoji images, which
the extractor was trained on.

```python
extractor = keras_models.metrics.EmojiFeatures()      # the shipped weights
features, logits = extractor(images)                  # (N, 128), (N, num_classes)
```
"""

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_models.metrics.features import FeatureExtractor, Images, run_in_batches
from keras_models.metrics.inception import InceptionFeatures

WEIGHTS_PATH = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "data_files", "emoji_features.npz"
)
RESOLUTION = 32
FEATURE_DIM = 128
_WIDTHS = ((32, 1), (32, 2), (64, 1), (64, 2), (FEATURE_DIM, 2))  # (filters, stride)


def build_network(num_classes: int) -> keras.Model:
    """The extractor's network: 32 px RGB in [-1, 1] -> (features, class logits).

    Five 3x3 ReLU convolutions (three of them with stride 2, down to 4x4), a global
    average (the features) and a linear classifier. No normalisation layer, so an
    image's features do not depend on the rest of its batch.

    Args:
        num_classes: classifier outputs.

    Returns:
        A `keras.Model` with outputs `[features (B, 128), logits (B, num_classes)]`.
    """
    images = keras.Input((RESOLUTION, RESOLUTION, 3))
    x = images
    for filters, stride in _WIDTHS:
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
    features = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(num_classes)(features)
    return keras.Model(images, [features, logits], name="emoji_features")


def weights_digest(weights: Sequence[np.ndarray], feature_scale: float) -> str:
    """SHA-256 of the weight arrays (their float32 bytes, in order) and the feature scale."""
    digest = hashlib.sha256(repr(float(feature_scale)).encode())
    for array in weights:
        digest.update(np.ascontiguousarray(array, np.float32).tobytes())
    return digest.hexdigest()


def save_weights(
    path: str, network: keras.Model, feature_scale: float, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Writes `network`'s weights, the feature scale and a JSON `metadata` dict (with
    their digest) to `.npz`.

    Returns:
        The metadata as written: `metadata` plus `feature_scale` and `weights_sha256`.
    """
    weights = network.get_weights()
    metadata = dict(
        metadata,
        feature_scale=float(feature_scale),
        weights_sha256=weights_digest(weights, feature_scale),
    )
    arrays = {f"w{i:02d}": w.astype(np.float32) for i, w in enumerate(weights)}
    np.savez_compressed(path, metadata=json.dumps(metadata, sort_keys=True), **arrays)
    return metadata


class EmojiFeatures(FeatureExtractor):
    """The offline extractor: images in [-1, 1] -> (features, class logits).

    A `FeatureExtractor` like `InceptionFeatures`, so `ReferenceStatistics` and the
    evaluation functions take either: features are 128-d, logits the emoji subcategories.
    Images of another side than 32 px are resized to 32 by area averaging (for 64 px
    images: the mean of each 2x2 block).

    Args:
        weights_path: `.npz` written by `benchmarks/train_feature_extractor.py`
            (default: the shipped `keras_models/data_files/emoji_features.npz`).
        batch_size: images per network call.
    """

    def __init__(self, weights_path: str = WEIGHTS_PATH, batch_size: int = 256) -> None:
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(
                f"Emoji feature-extractor weights not found at {weights_path!r}. "
                "Regenerate them with `python benchmarks/train_feature_extractor.py`."
            )
        with np.load(weights_path) as data:
            self.metadata = json.loads(str(data["metadata"]))
            weights = [data[f"w{i:02d}"] for i in range(len(data.files) - 1)]
        scale = self.metadata["feature_scale"]
        if weights_digest(weights, scale) != self.metadata["weights_sha256"]:
            raise ValueError(
                f"Expected the weights in {weights_path!r} to have SHA-256 "
                f"{self.metadata['weights_sha256']}. Received: "
                f"{weights_digest(weights, scale)}."
            )
        self.sha256 = self.metadata["weights_sha256"]
        self.classes = self.metadata["classes"]
        self.batch_size = batch_size
        self.network = build_network(len(self.classes))
        self.network.set_weights(weights)

        @tf.function(reduce_retracing=True)
        def run(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            if images.shape[1] != RESOLUTION or images.shape[2] != RESOLUTION:
                images = tf.image.resize(images, [RESOLUTION, RESOLUTION], method="area")
            features, logits = self.network(images, training=False)
            return features * scale, logits

        self._run = run

    @property
    def protocol(self) -> dict[str, Any]:
        """See `FeatureExtractor.protocol`: the weights' source and digest, and the resize."""
        return {
            "feature_extractor": f"emoji-features {self.metadata['source']} (not Inception)",
            "extractor_sha256": self.sha256,
            "resize": f"area to {RESOLUTION} (tf.image.resize)",
        }

    def __call__(self, images: Images) -> tuple[np.ndarray, np.ndarray]:
        """See `FeatureExtractor.__call__`: (N, 128) features and (N, num_classes) logits."""
        return run_in_batches(self._run, images, self.batch_size)


EXTRACTORS = ("auto", "inception", "emoji")


def feature_extractor(name: str = "auto", inception_weights: str | None = None) -> FeatureExtractor:
    """The extractor for FID/KID/precision-recall by name.

    Args:
        name: "inception" (needs `inception_weights`), "emoji" (the shipped offline
            `EmojiFeatures`) or "auto" (Inception when `inception_weights` is given,
            else the emoji extractor).
        inception_weights: path of `classify_image_graph_def.pb`, or None.

    Returns:
        An `InceptionFeatures` or an `EmojiFeatures`.
    """
    if name not in EXTRACTORS:
        raise ValueError(f"Expected a feature extractor in {EXTRACTORS}. Received: {name!r}")
    if name == "inception" or (name == "auto" and inception_weights):
        if not inception_weights:
            raise ValueError(
                "Expected inception_weights (a path) for the Inception extractor. Received: none."
            )
        return InceptionFeatures(inception_weights)
    return EmojiFeatures()
