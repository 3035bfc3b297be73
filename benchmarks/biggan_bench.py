"""BigGAN "cifar32" on CPU: time to the first training step, step time (graph and XLA,
against the previous implementation in the same run) and G forward throughput.

    python benchmarks/biggan_bench.py [--width 16] [--repeats 3] [--steps 2] [--iters 3]

Training step: `keras_models.GAN.fit` with the preset's recipe (4 D steps of batch 50 per
G step, hinge loss, Adam(2e-4, 0, 0.999, epsilon 1e-8), EMA, DiffAugment
"translation,cutout") on a reduced-width "cifar32" (width 16 = 64 channels instead of
256). "current" is the GAN as it is: the D steps in one `tf.while_loop` and one D call on
[fakes, reals] per D step. "previous" is the implementation before those two changes:
the D steps unrolled and two D calls per D step (`compact_d_steps=False`,
`joint_discriminator_pass=False`). Time to first step is the wall time of the first
`fit` step (tracing, Grappler or XLA compilation, one step); step time is timed over
`--steps` steps afterwards. Forward: images/s of the full-width "cifar32" generator
(4.3M parameters) at batch 50 in inference mode. Trials are interleaved across variants
and the median of `--repeats` is reported, so that a shared, noisy machine affects all
variants alike; compare the ratio columns, not the absolute numbers.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import seconds_per_call  # noqa: E402

import tf_diffaug  # noqa: E402
from keras_models.biggan import PRESETS, Discriminator, Generator  # noqa: E402
from keras_models.gan import GAN  # noqa: E402

RECIPE = PRESETS["cifar32"]["training"]


VARIANTS = ("current", "previous")


def make_gan(width, jit, variant="current"):
    generator = Generator.from_preset("cifar32", width=width)
    discriminator = Discriminator.from_preset("cifar32", width=width)
    gan = GAN(
        generator,
        discriminator,
        latent_dim=generator.latent_dim,
        augment=tf_diffaug.DiffAugment(RECIPE["policy"]),
        loss=RECIPE["loss"],
        ema_decay=RECIPE["ema_decay"],
        ema_start_step=RECIPE["ema_start_step"],
        d_steps_per_g_step=RECIPE["d_steps_per_g_step"],
        num_classes=generator.num_classes,
        joint_discriminator_pass=variant == "current",
    )
    gan.compact_d_steps = variant == "current"
    adam = lambda lr: keras.optimizers.Adam(
        lr, RECIPE["adam_beta_1"], RECIPE["adam_beta_2"], RECIPE["adam_epsilon"]
    )
    gan.compile(
        d_optimizer=adam(RECIPE["d_learning_rate"]),
        g_optimizer=adam(RECIPE["g_learning_rate"]),
        jit_compile=jit,
    )
    return gan


def training_dataset():
    rng = np.random.default_rng(0)
    batch = RECIPE["batch_size"] * RECIPE["d_steps_per_g_step"]
    images = rng.uniform(-1, 1, size=(batch, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, size=batch).astype("int32")
    return tf.data.Dataset.from_tensors((images, labels)).repeat()


def time_fit(gan, dataset, steps):
    start = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def make_forward(generator, jit):
    return tf.function(lambda z, y: generator([z, y], training=False), jit_compile=jit)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--modes", default="graph,xla", help="graph, xla or both")
    args = parser.parse_args(argv)

    dataset = training_dataset()
    runs = [(mode, variant) for mode in args.modes.split(",") for variant in VARIANTS]
    gans = {run: make_gan(args.width, run[0] == "xla", run[1]) for run in runs}
    first_step = {run: time_fit(gans[run], dataset, 1) for run in runs}  # traces, compiles
    generator = Generator.from_preset("cifar32")
    rng = np.random.default_rng(1)
    batch = RECIPE["batch_size"]
    z = tf.constant(rng.normal(size=(batch, generator.latent_dim)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, size=batch).astype("int32"))
    modes = list(dict.fromkeys(mode for mode, _ in runs))
    forwards = {mode: make_forward(generator, mode == "xla") for mode in modes}
    for mode in modes:
        seconds_per_call(forwards[mode], (z, y), 1)

    step_times = {run: [] for run in runs}
    throughput = {mode: [] for mode in modes}
    for _ in range(args.repeats):
        for run in runs:
            step_times[run].append(time_fit(gans[run], dataset, args.steps))
        for mode in modes:
            throughput[mode].append(len(z) / seconds_per_call(forwards[mode], (z, y), args.iters))
    step = {run: statistics.median(times) for run, times in step_times.items()}
    rate = {mode: statistics.median(rates) for mode, rates in throughput.items()}

    print(f"BigGAN cifar32 on CPU ({os.cpu_count()} cores), median of {args.repeats} trials")
    print(
        f"GAN.fit, width {args.width}, {RECIPE['d_steps_per_g_step']} D steps x batch {batch} "
        "+ 1 G step\n"
    )
    print("| mode | measure | current | previous | previous / current |")
    print("|---|---|---:|---:|---:|")
    for mode in modes:
        now, before = first_step[(mode, "current")], first_step[(mode, "previous")]
        print(
            f"| {mode} | time to first step (s) | {now:.1f} | {before:.1f} | {before / now:.2f}x |"
        )
        now, before = step[(mode, "current")], step[(mode, "previous")]
        print(
            f"| {mode} | step time (ms) | {1e3 * now:.0f} | {1e3 * before:.0f} | "
            f"{before / now:.2f}x |"
        )
    print("\n| benchmark | " + " | ".join(modes) + " |")
    print("|---|" + "---:|" * len(modes))
    print(
        f"| G forward, full width 64 (256 ch), batch {batch} (images/s) | "
        + " | ".join(f"{rate[mode]:.0f}" for mode in modes)
        + " |"
    )


if __name__ == "__main__":
    main()
