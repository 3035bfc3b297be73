"""StyleGAN2 throughput at 32 px, reduced width: graph mode vs XLA (`jit_compile=True`).

    python benchmarks/stylegan2_bench.py [--repeats 5] [--iters 10] [--batch 32]

Rows (images/s, median of `--repeats` interleaved trials; the machine may be shared and
noisy, so compare the ratio column):

* G forward, inference (`training=False`, truncation psi 0.7);
* G forward, training (`training=True`: style mixing and the w_avg update);
* one `keras_models.GAN` train step: a D step (non-saturating loss, R1 gamma 0.1) and a G
  step, both through DiffAugment "color,translation,cutout", plus the EMA update.
  Throughput counts the real images of the batch.

The networks are `from_preset("cifar32", fmap_base=--fmap-base, latent_dim=w_dim=256)`:
the CIFAR architecture at a width a CPU can run.
"""

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import seconds_per_call  # noqa: E402

import tf_diffaug  # noqa: E402
from keras_models.gan import GAN  # noqa: E402
from keras_models.stylegan2 import Discriminator, Generator  # noqa: E402

LATENT = 256


def networks(fmap_base):
    kwargs = {"fmap_base": fmap_base, "seed": 0}
    generator = Generator.from_preset("cifar32", latent_dim=LATENT, w_dim=LATENT, **kwargs)
    discriminator = Discriminator.from_preset("cifar32", fmap_base=fmap_base)
    return generator, discriminator


def forward_fn(generator, jit, training):
    kwargs = {"training": True} if training else {"truncation_psi": 0.7}
    return tf.function(lambda z: generator(z, **kwargs), jit_compile=jit)


def gan_step_fn(fmap_base, jit):
    generator, discriminator = networks(fmap_base)
    gan = GAN(
        generator,
        discriminator,
        latent_dim=LATENT,
        augment=tf_diffaug.DiffAugment("color,translation,cutout", seed=0),
        loss="non_saturating",
        r1_gamma=0.1,
        seed=0,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(0.002, 0.0, 0.99, 1e-8),
        g_optimizer=keras.optimizers.Adam(0.002, 0.0, 0.99, 1e-8),
        jit_compile=jit,
    )
    return lambda reals: gan.train_on_batch(reals, return_dict=True)["d_loss"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--fmap-base", type=int, default=512)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    latents = tf.constant(rng.standard_normal((args.batch, LATENT)), tf.float32)
    reals = tf.constant(rng.uniform(-1, 1, (args.batch, 32, 32, 3)), tf.float32)
    generator, _ = networks(args.fmap_base)
    generator(latents)
    rows = {
        "G forward, inference": (
            latents,
            {jit: forward_fn(generator, jit, False) for jit in (False, True)},
        ),
        "G forward, training": (
            latents,
            {jit: forward_fn(generator, jit, True) for jit in (False, True)},
        ),
        "GAN train step (D + G)": (
            reals,
            {jit: gan_step_fn(args.fmap_base, jit) for jit in (False, True)},
        ),
    }
    for inputs, fns in rows.values():  # compile / trace outside the timings
        for fn in fns.values():
            np.asarray(fn(inputs))

    times = {(row, jit): [] for row, (_, fns) in rows.items() for jit in fns}
    for _ in range(args.repeats):  # interleaved, so that load changes hit all alike
        for row, (inputs, fns) in rows.items():
            for jit, fn in fns.items():
                times[row, jit].append(seconds_per_call(fn, (inputs,), args.iters))

    print(
        f"StyleGAN2 32 px, fmap_base {args.fmap_base}, latent {LATENT}, batch {args.batch}, "
        f"{generator.count_params():,} G params; images/s, median of {args.repeats}\n"
    )
    print("| step | graph | XLA | XLA / graph |")
    print("|---|---:|---:|---:|")
    for row in rows:
        graph, xla = (args.batch / statistics.median(times[row, jit]) for jit in (False, True))
        print(f"| {row} | {graph:,.0f} | {xla:,.0f} | {xla / graph:.2f}x |")


if __name__ == "__main__":
    main()
