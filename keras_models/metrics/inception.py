"""Inception-v3 features as FID/IS/KID papers compute them, from a local frozen graph.

The standard graph is `classify_image_graph_def.pb` from Google's
`inception-2015-12-05.tgz` (http://download.tensorflow.org/models/image/imagenet/
inception-2015-12-05.tgz), the network of the original Inception Score and FID code and
of TF-GAN. Nothing is downloaded here: the user passes the file's path.

The input is the authors': their BigGAN and StyleGAN2 evaluations run NVIDIA's
`inception_v3_features.pkl`, a repackaging of this graph. Images in [-1, 1] are quantised
to uint8 (`(x * 0.5 + 0.5) * 255 + 0.5`, clipped, truncated), resized to 299x299 with the
legacy bilinear resize (TF1's `resize_bilinear`: `align_corners=False`, no half-pixel
centres) and scaled to `(x - 128) / 128` (`inception_input`). The graph's own JPEG
preprocessing (`ResizeBilinear`, `Sub`, `Mul`) computes the same, so the result is fed to
its `Mul:0` tensor, after those ops: nothing is applied twice. Outputs: `pool_3:0`
(2048-d features, for FID/KID) and the 1008-way logits `pool_3 @ W (+ b)`, computed here
from the weights of `softmax/logits/MatMul` because the graph's own `softmax/logits`
reshapes to a batch of 1.
"""

import hashlib
import os
from typing import Any

import numpy as np
import tensorflow as tf

from keras_models.metrics.features import FeatureExtractor, Images, run_in_batches

INCEPTION_URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
RESOLUTION = 299
INPUT_TENSOR = "Mul:0"
POOL_TENSOR = "pool_3:0"
LOGITS_MATMUL = "softmax/logits/MatMul"
LOGITS_BIAS_ADD = "softmax/logits"
INPUT_PROTOCOL = (
    "uint8 (x * 0.5 + 0.5) * 255 + 0.5 truncated, legacy bilinear to 299 "
    "(align_corners=False, half_pixel_centers=False), (x - 128) / 128 into Mul:0"
)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inception_input(images: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Images in [-1, 1] as the authors feed Inception: the graph's `Mul:0` input.

    Quantised to uint8 as the authors' evaluations do (`(x * 0.5 + 0.5) * 255 + 0.5`,
    clipped to [0, 255], then truncated: rounding half up), resized to 299x299 with
    the legacy bilinear resize of NVIDIA's `inception_v3_features.pkl` and of the
    graph's own preprocessing (source coordinate `dst * in / out`, no half-pixel
    centres; `tf.image.resize` samples elsewhere), then scaled to `(x - 128) / 128`.

    Args:
        images: float (N, H, W, 3) images in [-1, 1].

    Returns:
        A float32 (N, 299, 299, 3) tensor, about in [-1, 1].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    levels = tf.clip_by_value((images * 0.5 + 0.5) * 255.0 + 0.5, 0.0, 255.0)
    # Casting to an integer truncates, which the + 0.5 turns into rounding.
    pixels = tf.cast(tf.cast(levels, tf.uint8), tf.float32)
    # TF1's `resize_bilinear`, without its deprecation warning.
    resized = tf.raw_ops.ResizeBilinear(
        images=pixels,
        size=[RESOLUTION, RESOLUTION],
        align_corners=False,
        half_pixel_centers=False,
    )
    return (resized - 128.0) / 128.0


class InceptionFeatures(FeatureExtractor):
    """Runs the Inception 2015-12-05 frozen graph on images: images -> (pool_3, logits).

    A `FeatureExtractor`: features are the 2048-d `pool_3`, logits the 1008 classes.

    ```python
    inception = keras_models.metrics.InceptionFeatures("classify_image_graph_def.pb")
    pool, logits = inception(images)          # (N, 2048), (N, 1008) float32 NumPy
    ```

    Args:
        weights_path: path to `classify_image_graph_def.pb` (extract it from
            `inception-2015-12-05.tgz`, see `INCEPTION_URL`).
        expected_sha256: hex digest the file must have; None skips the check (the
            digest of the loaded file is always recorded as `self.sha256`, and every
            metric result's protocol carries it).
        logits_bias: add the softmax bias to the logits. The original Inception Score
            code (and StyleGAN2-ADA, which matches it) leaves it out, hence False.
        batch_size: images per graph call.
    """

    def __init__(
        self,
        weights_path: str,
        *,
        expected_sha256: str | None = None,
        logits_bias: bool = False,
        batch_size: int = 64,
    ) -> None:
        if not os.path.isfile(weights_path):
            raise FileNotFoundError(
                f"Inception weights not found at {weights_path!r}. Download {INCEPTION_URL} "
                "(about 88 MB), extract classify_image_graph_def.pb from it "
                "(`tar xzf inception-2015-12-05.tgz classify_image_graph_def.pb`) and pass "
                "its path. Nothing is downloaded automatically."
            )
        self.weights_path = weights_path
        self.sha256 = file_sha256(weights_path)
        if expected_sha256 is not None and self.sha256 != expected_sha256.lower():
            raise ValueError(
                f"Expected {weights_path!r} to have SHA-256 {expected_sha256}. Received: "
                f"{self.sha256}. Is it classify_image_graph_def.pb from "
                "inception-2015-12-05.tgz?"
            )
        self.logits_bias = logits_bias
        self.batch_size = batch_size
        graph_def = tf.compat.v1.GraphDef()
        with open(weights_path, "rb") as f:
            graph_def.ParseFromString(f.read())
        names = {node.name for node in graph_def.node}
        wanted = {INPUT_TENSOR.split(":")[0], POOL_TENSOR.split(":")[0], LOGITS_MATMUL}
        if logits_bias:
            wanted.add(LOGITS_BIAS_ADD)
        if not wanted <= names:
            raise ValueError(
                f"Expected a graph with nodes {sorted(wanted)} (the inception-2015-12-05 "
                f"graph). Received: {weights_path!r} lacks {sorted(wanted - names)}."
            )

        def run(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            (pool,) = tf.graph_util.import_graph_def(
                graph_def,
                input_map={INPUT_TENSOR: inception_input(images)},
                return_elements=[POOL_TENSOR],
                name="inception",
            )
            graph = pool.graph
            pool = tf.reshape(pool, [-1, pool.shape[-1]])
            weights = graph.get_operation_by_name(f"inception/{LOGITS_MATMUL}").inputs[1]
            logits = tf.matmul(pool, weights)
            if logits_bias:
                bias_add = graph.get_operation_by_name(f"inception/{LOGITS_BIAS_ADD}")
                logits = logits + bias_add.inputs[1]
            return pool, logits

        # A frozen TF1 graph runs in TF2 through wrap_function; this is its only use.
        self._run = tf.compat.v1.wrap_function(
            run, [tf.TensorSpec([None, None, None, 3], tf.float32, name="images")]
        )

    @property
    def protocol(self) -> dict[str, Any]:
        """See `FeatureExtractor.protocol`: the graph's outputs, its digest and its input."""
        return {
            "feature_extractor": "inception-2015-12-05 pool_3"
            + (" (logits with bias)" if self.logits_bias else ""),
            "extractor_sha256": self.sha256,
            "resize": INPUT_PROTOCOL,
        }

    def __call__(self, images: Images) -> tuple[np.ndarray, np.ndarray]:
        """See `FeatureExtractor.__call__`: `(pool_3, logits)`, (N, 2048) and (N, 1008)."""
        return run_in_batches(self._run, images, self.batch_size)
