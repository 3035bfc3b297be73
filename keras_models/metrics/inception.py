"""Inception-v3 features as FID/IS/KID papers compute them, from a local frozen graph.

The standard graph is `classify_image_graph_def.pb` from Google's
`inception-2015-12-05.tgz` (http://download.tensorflow.org/models/image/imagenet/
inception-2015-12-05.tgz), the network of the original Inception Score and FID code and
of TF-GAN. Nothing is downloaded here: the user passes the file's path.

Images in [-1, 1] are resized to 299x299 with bilinear interpolation
(`tf.image.resize`, half-pixel centres, no antialiasing) and fed to the graph's `Mul:0`
tensor, the normalised image that the graph's own JPEG preprocessing produces (as
TF-GAN does). Outputs: `pool_3:0` (2048-d features, for FID/KID) and the 1008-way logits
`pool_3 @ W (+ b)`, computed here from the weights of `softmax/logits/MatMul` because the
graph's own `softmax/logits` reshapes to a batch of 1.
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


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
            resized = tf.image.resize(images, [RESOLUTION, RESOLUTION], method="bilinear")
            (pool,) = tf.graph_util.import_graph_def(
                graph_def,
                input_map={INPUT_TENSOR: resized},
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
        """See `FeatureExtractor.protocol`: the graph's outputs, its digest and the resize."""
        return {
            "feature_extractor": "inception-2015-12-05 pool_3"
            + (" (logits with bias)" if self.logits_bias else ""),
            "extractor_sha256": self.sha256,
            "resize": f"bilinear to {RESOLUTION} (tf.image.resize, half-pixel centres)",
        }

    def __call__(self, images: Images) -> tuple[np.ndarray, np.ndarray]:
        """See `FeatureExtractor.__call__`: `(pool_3, logits)`, (N, 2048) and (N, 1008)."""
        return run_in_batches(self._run, images, self.batch_size)
