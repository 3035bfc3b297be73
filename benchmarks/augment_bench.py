"""Forward+backward throughput of DiffAugment: ours vs a straightforward port of the paper's.

    python benchmarks/augment_bench.py [--repeats 7] [--iters 20]

Policy "color,translation,cutout" at 32 px x 64, 128 px x 32 and 256 px x 16, each in graph
mode and with `jit_compile=True`. Both implementations sample their parameters inside the
timed function (ours from the layer's SeedGenerator, the port with stateful `tf.random` as
the paper does) and back-propagate to the images. Timings are interleaved across variants
and the median of `--repeats` trials is reported, so that a shared, noisy machine affects
all variants alike; compare the ratio columns, not the absolute numbers. The graph and XLA
columns time the two formulations that `tf_diffaug.transform.compiling_with_xla`
chooses between.
"""

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reference_port  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import seconds_per_call  # noqa: E402

import tf_diffaug  # noqa: E402

POLICY = "color,translation,cutout"
CASES = ((32, 64), (128, 32), (256, 16))


def make_step(augment_fn, jit):
    @tf.function(jit_compile=jit)
    def step(images, weights):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(augment_fn(images) * weights)
        # The loss is returned too, so that XLA cannot drop the forward pass (the
        # gradient of these linear maps does not depend on it).
        return loss, tape.gradient(loss, images)

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args(argv)

    layer = tf_diffaug.DiffAugment(POLICY, seed=0)
    variants = {
        "port": lambda x: reference_port.augment(x, reference_port.sample(x)),
        "ours": lambda x: layer(x, training=True),
    }
    rows = []
    for side, batch in CASES:
        images = tf.random.uniform((batch, side, side, 3), -1, 1)
        weights = tf.random.normal(images.shape)
        steps = {
            (name, jit): make_step(fn, jit)
            for name, fn in variants.items()
            for jit in (False, True)
        }
        for step in steps.values():  # trace, compile, warm up
            for _ in range(3):
                step(images, weights)[0].numpy()
        samples = {key: [] for key in steps}
        for _ in range(args.repeats):
            for key, step in steps.items():
                samples[key].append(seconds_per_call(step, (images, weights), args.iters))
        seconds = {key: statistics.median(values) for key, values in samples.items()}
        mpix = batch * side * side / 1e6
        rate = {key: mpix / s for key, s in seconds.items()}
        rows.append((side, batch, rate))

    print(
        f"DiffAugment forward+backward, policy {POLICY!r}, TF {tf.__version__}, "
        f"{os.cpu_count()} CPU cores; Mpix/s (median of {args.repeats} x {args.iters} steps)\n"
    )
    print("| images | port graph | ours graph | ratio | port XLA | ours XLA | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for side, batch, rate in rows:
        g = rate[("ours", False)] / rate[("port", False)]
        x = rate[("ours", True)] / rate[("port", True)]
        print(
            f"| {side} px x {batch} | {rate[('port', False)]:.1f} | {rate[('ours', False)]:.1f} "
            f"| {g:.2f}x | {rate[('port', True)]:.1f} | {rate[('ours', True)]:.1f} | {x:.2f}x |"
        )


if __name__ == "__main__":
    main()
