"""Step time of keras_models.GAN: graph vs XLA, and the cost of DiffAugment in the step.

A small class-conditional DCGAN-style G and D at 32x32 (hinge loss, EMA generator) is
trained with `augment_mode="diffaugment"` (policy color,translation,cutout on reals and
fakes, D and G steps) and with `augment_mode="none"`, each compiled as a TF graph and with
`jit_compile=True`. Configurations are timed in interleaved rounds (so that load from
other processes hits all of them alike); the median and the minimum per-step times are
reported (the minimum is the least disturbed by other processes).

    python benchmarks/train_step_bench.py [--batch 32] [--steps 20] [--rounds 5]

Prints a markdown table with the ratios to the graph-mode `none` baseline and the
augmentation overhead within each compilation mode.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tf_diffaug  # noqa: E402
from keras_models.gan import GAN  # noqa: E402

SIZE, LATENT_DIM, NUM_CLASSES = 32, 64, 10


def generator(width):
    latents = keras.Input((LATENT_DIM,))
    labels = keras.Input((), dtype="int32")
    x = keras.layers.Concatenate()([latents, keras.layers.Embedding(NUM_CLASSES, 16)(labels)])
    x = keras.layers.Reshape((4, 4, 2 * width))(keras.layers.Dense(4 * 4 * 2 * width)(x))
    for filters in (2 * width, width, width):  # 4 -> 8 -> 16 -> 32
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    images = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(x)
    return keras.Model([latents, labels], images)


def discriminator(width):
    images = keras.Input((SIZE, SIZE, 3))
    labels = keras.Input((), dtype="int32")
    x = images
    for filters in (width, 2 * width, 2 * width):  # 32 -> 16 -> 8 -> 4
        x = keras.layers.Conv2D(filters, 4, strides=2, padding="same")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    features = keras.layers.GlobalAveragePooling2D()(x)
    projection = keras.layers.Dot(axes=1)(
        [features, keras.layers.Embedding(NUM_CLASSES, 2 * width)(labels)]
    )
    logits = keras.layers.Add()([keras.layers.Dense(1)(features), projection])
    return keras.Model([images, labels], logits)


def build(mode, jit, width):
    keras.utils.set_random_seed(0)
    gan = GAN(
        generator(width),
        discriminator(width),
        latent_dim=LATENT_DIM,
        augment=tf_diffaug.DiffAugment("color,translation,cutout", seed=0),
        augment_mode=mode,
        num_classes=NUM_CLASSES,
        seed=0,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.99),
        g_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.99),
        jit_compile=jit,
    )
    return gan


def augmentation_ms(images, jit, repeats):
    """Minimum time of three DiffAugment calls and the gradient through one of them."""
    augment = tf_diffaug.DiffAugment("color,translation,cutout", seed=0)
    images = tf.constant(images)

    @tf.function(jit_compile=jit)
    def step(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            generator_step = tf.reduce_sum(augment(images, training=True))
        discriminator_step = augment(images, training=True) + augment(images, training=True)
        return tape.gradient(generator_step, images), discriminator_step

    step(images)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(step(images)[0])
        times.append((time.perf_counter() - start) * 1e3)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=32, help="base number of filters")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timed runs")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    data = (
        rng.uniform(-1, 1, (args.batch, SIZE, SIZE, 3)).astype("float32"),
        rng.integers(0, NUM_CLASSES, args.batch).astype("int32"),
    )
    dataset = tf.data.Dataset.from_tensors(data).repeat().prefetch(2)

    configs = [(jit, mode) for jit in (False, True) for mode in ("none", "diffaugment")]
    steps = {}
    for jit, mode in configs:
        gan = build(mode, jit, args.width)
        gan.fit(dataset, epochs=1, steps_per_epoch=3, verbose=0)  # traces and compiles
        # Time Keras's compiled step function itself, without fit's per-call set-up.
        iterator = iter(gan.distribute_strategy.experimental_distribute_dataset(dataset))
        steps[jit, mode] = lambda gan=gan, it=iterator: gan.train_function(it)
    times = {config: [] for config in configs}
    for _ in range(args.rounds):
        for config in configs:
            start = time.perf_counter()
            for _ in range(args.steps):
                logs = steps[config]()
            np.asarray(logs["d_loss"])  # waits for the last step
            times[config].append((time.perf_counter() - start) / args.steps * 1e3)

    # The augmentation work of one step in isolation (reals and fakes in the D step, fakes
    # in the G step, plus the backward pass through T): short calls timed many times give
    # a minimum that noise from other processes hardly reaches.
    augment_cost = {
        jit: augmentation_ms(data[0], jit, args.rounds * args.steps) for jit in (False, True)
    }

    median = {config: statistics.median(t) for config, t in times.items()}
    best = {config: min(t) for config, t in times.items()}
    baseline = median[False, "none"]
    print(
        f"\nkeras_models.GAN train step, conditional G/D at {SIZE}x{SIZE}, batch {args.batch}, "
        f"width {args.width}, TF {tf.__version__}, Keras {keras.__version__}, "
        f"{os.cpu_count()} CPU cores; median of {args.rounds} runs x {args.steps} steps\n"
    )
    print(
        "| compile | augment_mode | ms / step (median) | ms / step (min) | vs graph `none` "
        "| DiffAugment overhead (median / min) |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for jit, mode in configs:
        overhead = "-"
        if mode != "none":
            overhead = (
                f"{median[jit, mode] / median[jit, 'none'] - 1:+.1%} / "
                f"{best[jit, mode] / best[jit, 'none'] - 1:+.1%}"
            )
        print(
            f"| {'XLA' if jit else 'graph'} | {mode} | {median[jit, mode]:.1f} | "
            f"{best[jit, mode]:.1f} | {median[jit, mode] / baseline:.2f}x | {overhead} |"
        )

    print(
        "\n| compile | DiffAugment work of one step alone (min) | share of the `none` step (min) |"
    )
    print("|---|---:|---:|")
    for jit in (False, True):
        print(
            f"| {'XLA' if jit else 'graph'} | {augment_cost[jit]:.2f} ms | "
            f"{augment_cost[jit] / best[jit, 'none']:.1%} |"
        )


if __name__ == "__main__":
    main()
