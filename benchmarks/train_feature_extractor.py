"""Regenerates the offline feature extractor's weights (keras_models.metrics.EmojiFeatures).

    nice -n 10 python benchmarks/train_feature_extractor.py [--source TARBALL] [--epochs 60]

Downloads the npm package `emoji-datasource-twitter` (pinned; or reads --source, an `npm
pack` tarball or unpacked folder), reads every Twemoji image that the package has (base
emoji and skin-tone variants) at 32 px the way the project reads training images
(`keras_models.data.load_image`: composited on white, Lanczos), and trains
`emoji_features.build_network` to classify the emoji's subcategory, with random
translations and flips. 10% of the emoji (with their variants) are held out to report
accuracy. Writes `keras_models/data_files/emoji_features.npz` (weights and metadata:
classes, source, accuracy, the feature scale that gives the training images' features a
mean square of 1, digest). About 2 CPU minutes on 2 cores.
"""

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import emoji_build  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_models import data  # noqa: E402
from keras_models.metrics import emoji_features  # noqa: E402

PACKAGE = "emoji-datasource-twitter@16.0.0"
IMAGE_DIR = "img/twitter/64"


def read_twemoji(package_dir):
    """Every Twemoji image (base and skin variants) at 32 px, its subcategory and group.

    Returns:
        `(images uint8 (N, 32, 32, 3), subcategory names (N,), group ids (N,))`; an emoji
        and its variants share a group id, so that a split never separates them.
    """
    with open(os.path.join(package_dir, "emoji.json"), encoding="utf-8") as f:
        entries = sorted(json.load(f), key=lambda e: e["sort_order"])
    images, names, groups = [], [], []
    for group, entry in enumerate(e for e in entries if e.get("has_img_twitter")):
        variants = [entry["image"]] + [
            v["image"]
            for _, v in sorted((entry.get("skin_variations") or {}).items())
            if v.get("has_img_twitter")
        ]
        for file in variants:
            path = os.path.join(package_dir, IMAGE_DIR, file)
            images.append(data.load_image(path, emoji_features.RESOLUTION))
            names.append(entry["subcategory"])
            groups.append(group)
    return np.stack(images), np.array(names), np.array(groups)


def augment(images, labels):
    """Random shifts of up to 3 px (white fill, as the emoji backgrounds) and flips."""
    pad = 3
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=1.0)
    shifted = tf.image.random_crop(padded, tf.shape(images))
    return tf.image.random_flip_left_right(shifted), labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="npm tarball or unpacked package (default: npm pack)")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=emoji_features.WEIGHTS_PATH)
    args = parser.parse_args(argv)
    start = time.process_time()
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    with tempfile.TemporaryDirectory() as work:
        package_dir = emoji_build.unpack(args.source or emoji_build.npm_pack(work, PACKAGE), work)
        with open(os.path.join(package_dir, "package.json"), encoding="utf-8") as f:
            package = json.load(f)
        images, names, groups = read_twemoji(package_dir)
    classes = sorted(set(names))
    labels = np.searchsorted(classes, names).astype(np.int32)
    images = images.astype(np.float32) / 127.5 - 1.0
    rng = np.random.default_rng(args.seed)
    heldout_groups = rng.permutation(groups.max() + 1)[: (groups.max() + 1) // 10]
    heldout = np.isin(groups, heldout_groups)
    train = (
        tf.data.Dataset.from_tensor_slices((images[~heldout], labels[~heldout]))
        .shuffle(int((~heldout).sum()), seed=args.seed)
        .batch(64)
        .map(augment)
    )
    network = emoji_features.build_network(len(classes))
    classifier = keras.Model(network.input, network.outputs[1])
    classifier.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    classifier.fit(train, epochs=args.epochs, verbose=2)
    _, accuracy = classifier.evaluate(images[heldout], labels[heldout], verbose=0)
    features = network.predict(images[~heldout], batch_size=256, verbose=0)[0]
    metadata = emoji_features.save_weights(
        args.out,
        network,
        1.0 / np.sqrt(np.mean(np.square(features, dtype=np.float64))),
        {
            "source": f"{package['name']}@{package['version']}",
            "task": "Twemoji subcategory classification (base emoji and skin variants)",
            "classes": classes,
            "num_train": int((~heldout).sum()),
            "num_heldout": int(heldout.sum()),
            "heldout_accuracy": round(float(accuracy), 4),
            "epochs": args.epochs,
            "seed": args.seed,
        },
    )
    minutes = (time.process_time() - start) / 60
    print(
        f"{len(images)} images, {len(classes)} classes; held-out accuracy {accuracy:.3f} "
        f"(chance {np.bincount(labels).max() / len(labels):.3f}); {minutes:.1f} CPU min; "
        f"wrote {args.out} ({os.path.getsize(args.out) / 1e3:.0f} kB, weights "
        f"{metadata['weights_sha256'][:12]})"
    )


if __name__ == "__main__":
    main()
