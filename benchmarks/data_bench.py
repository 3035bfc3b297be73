"""Input pipeline and feature extraction throughput, each beside a straightforward baseline.

    python benchmarks/data_bench.py [--repeats 5] [--batches 30]

Rows (images/s, median of `--repeats` interleaved trials; compare the ratio column, the
machine is shared and noisy):

* emoji folder, 64 px, batch 64: `keras_models.data.image_folder` on the shipped 169
  faces (decoded once into memory, then tf.data shuffle/flip/batch/prefetch) vs a plain
  Python/PIL loop that decodes, composites on white, scales, flips and stacks every
  batch. A second row counts ours from scratch (decode included) for one epoch.
* mock CIFAR-10, 32 px, batch 64: `load_tfds` (cached uint8, after the first epoch) vs
  iterating `tfds.load(...)` and scaling/batching in NumPy. Under `tfds.testing.mock_data`
  the source is a Python random generator, so the baseline measures that generator, as a
  real first (uncached) epoch would measure disk and JPEG/PNG decoding.
* feature extraction with a TINY stand-in graph (same tensor names as Inception
  2015-12-05, a mean-pool + linear map instead of the network): `InceptionFeatures`
  with batches of 64 vs one image per call. It measures the plumbing (resize to 299,
  graph call, batching), not Inception's own cost.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402
from PIL import Image  # noqa: E402

from keras_models import data, metrics  # noqa: E402

BATCH = 64


def images_per_second(fn, num_images):
    start = time.perf_counter()
    fn()
    return num_images / (time.perf_counter() - start)


def pil_loop_batches(files, num_batches, rng):
    """Baseline: decode + composite + scale + flip every image of every batch in Python."""
    for _ in range(num_batches):
        batch = []
        for f in rng.choice(files, BATCH):
            with Image.open(f) as image:
                rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            x = np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), np.float32)
            x = x / 127.5 - 1.0
            batch.append(x[:, ::-1] if rng.random() < 0.5 else x)
        np.stack(batch)


def take_batches(ds, num_batches):
    for batch in ds.take(num_batches):
        batch.numpy()


def numpy_tfds_batches(num_batches):
    """Baseline: iterate tfds examples and scale/batch them in NumPy."""
    it = tfds.load("cifar10", split="train", shuffle_files=False).repeat().as_numpy_iterator()
    for _ in range(num_batches):
        np.stack([next(it)["image"].astype(np.float32) / 127.5 - 1.0 for _ in range(BATCH)])


def tiny_inception(path):
    """Writes a GraphDef with the Inception tensor names (Mul, pool_3, softmax/logits)."""
    rng = np.random.default_rng(0)
    projection = rng.normal(size=(3, 2048)).astype(np.float32)
    weights = rng.normal(size=(2048, 1008)).astype(np.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32)])
    def graph(images):
        x = tf.identity(images, name="Mul")
        pooled = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        pool = tf.identity(tf.einsum("bijc,cd->bijd", pooled, projection), name="pool_3")
        return tf.matmul(tf.reshape(pool, [1, 2048]), weights, name="softmax/logits/MatMul")

    with open(path, "wb") as f:
        f.write(graph.get_concrete_function().graph.as_graph_def().SerializeToString())


def median_rates(trials, repeats):
    """Runs each (name, fn, num_images) once per repeat, interleaved; returns medians."""
    rates = {name: [] for name, _, _ in trials}
    for _ in range(repeats):
        for name, fn, n in trials:
            rates[name].append(images_per_second(fn, n))
    return {name: statistics.median(r) for name, r in rates.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    n = args.batches * BATCH
    rows = []

    with open(os.path.join(data.FACES_DIR, "manifest.json")) as f:
        files = [os.path.join(data.FACES_DIR, e["file"]) for e in json.load(f)["images"]]
    ours = data.emoji_faces(64, batch_size=BATCH, x_flip=True)
    take_batches(ours, 2)  # warm-up: tracing, first shuffle buffer fill
    rng = np.random.default_rng(0)
    rates = median_rates(
        [
            ("ours", lambda: take_batches(ours, args.batches), n),
            ("baseline", lambda: pil_loop_batches(files, args.batches, rng), n),
            (
                "ours_cold",
                lambda: take_batches(data.emoji_faces(64, batch_size=BATCH), 169 // BATCH),
                169 // BATCH * BATCH,
            ),
        ],
        args.repeats,
    )
    rows.append(("emoji folder 64 px (in memory, steady state)", rates["ours"], rates["baseline"]))
    rows.append(("emoji folder 64 px (decode + 1 epoch)", rates["ours_cold"], rates["baseline"]))

    with tfds.testing.mock_data(num_examples=5000):
        cifar = data.load_tfds("cifar10", "train", resolution=32, batch_size=BATCH, x_flip=True)
        take_batches(cifar, 5000 // BATCH + 2)  # first epoch fills the cache
        rates = median_rates(
            [
                ("ours", lambda: take_batches(cifar, args.batches), n),
                ("baseline", lambda: numpy_tfds_batches(args.batches), n),
            ],
            args.repeats,
        )
    rows.append(("mock CIFAR-10 32 px (cached)", rates["ours"], rates["baseline"]))

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tiny.pb")
        tiny_inception(path)
        batched = metrics.InceptionFeatures(path, batch_size=BATCH)
        single = metrics.InceptionFeatures(path, batch_size=1)
        images = np.random.default_rng(0).uniform(-1, 1, (BATCH * 4, 64, 64, 3))
        images = images.astype(np.float32)
        batched(images[:BATCH])
        single(images[:1])
        rates = median_rates(
            [
                ("ours", lambda: batched(images), len(images)),
                ("baseline", lambda: single(images[: BATCH // 2]), BATCH // 2),
            ],
            args.repeats,
        )
    rows.append(("features, TINY stand-in graph, 64->299 px", rates["ours"], rates["baseline"]))

    print("| pipeline | ours (img/s) | baseline (img/s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours_rate, base_rate in rows:
        print(f"| {name} | {ours_rate:,.0f} | {base_rate:,.0f} | {ours_rate / base_rate:.1f}x |")


if __name__ == "__main__":
    main()
