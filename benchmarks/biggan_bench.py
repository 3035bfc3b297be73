"""BigGAN "cifar32" on CPU: time to the first training step, step time (graph and XLA,
against the previous implementation in the same run), how close the step is to the
machine's arithmetic peak, and G forward throughput.

    python benchmarks/biggan_bench.py [--width 16] [--repeats 3] [--steps 2] [--iters 3]
        [--authors_code DIR --authors_python PYTHON]

Training step: `keras_models.GAN.fit` with the preset's recipe (4 D steps of batch 50 per
G step, hinge loss, Adam(2e-4, 0, 0.999, epsilon 1e-8), EMA, DiffAugment
"translation,cutout") on a reduced-width "cifar32" (width 16 = 64 channels instead of
256). "current" is the GAN as it is: the D steps in one `tf.while_loop` and one D call on
[fakes, reals] per D step. "previous" is the implementation before those two changes:
the D steps unrolled (the formulation XLA and MirroredStrategy use) and two D calls per
D step (`joint_discriminator_pass=False`). Time to first step is the wall time of the first
`fit` step (tracing, Grappler or XLA compilation, one step); step time is the median
step of `--steps` steps afterwards, timed by a callback around each step. Forward:
images/s of the full-width "cifar32" generator (4.3M parameters) at batch 50 in
inference mode. Trials are interleaved across variants
and the median of `--repeats` is reported, so that a shared, noisy machine affects all
variants alike; compare the ratio columns, not the absolute numbers.

Roofline: the floating-point operations of one training step are counted from its traced
graph (convolutions, their two gradients and matmuls: all but a few percent of the
arithmetic) and divided by the graph-mode step time; the machine's attainable rate is the
float32 rate of a 2048 x 2048 matmul, timed in the same trials. A step near that rate is
bound by arithmetic, not by overheads: only less arithmetic, or cheaper arithmetic, makes
it faster. The "mixed_bfloat16" row is the current step under Keras's `mixed_bfloat16`
policy (float32 weights, bfloat16 activations), which is faster on CPUs with AVX-512 BF16
or AMX instructions and slower on others (train.py's `--mixed_precision=auto` picks it
where the CPU has them).

Reference: with `--authors_code`, every trial also times one iteration of the authors'
PyTorch code at the same width, batch and D steps (`authors_biggan_step.py`, in
`--authors_python`), alone on the cores after ours, and the precision table gives our
step time as a fraction of theirs (issue 15's target: at most 0.5x).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import seconds_per_call  # noqa: E402

import tf_diffaug  # noqa: E402
from keras_models.biggan import Discriminator, Generator  # noqa: E402
from keras_models.gan import GAN  # noqa: E402
from keras_models.recipes import TRAINING  # noqa: E402

RECIPE = TRAINING["biggan"]["cifar32"]


VARIANTS = ("current", "previous")
BF16 = ("graph", "mixed_bfloat16")  # the current step under the mixed_bfloat16 policy


def make_gan(width, jit, variant="current", policy="float32"):
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        generator = Generator.from_preset("cifar32", width=width)
        discriminator = Discriminator.from_preset("cifar32", width=width)
    finally:
        keras.config.set_dtype_policy(previous_policy)
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
    if variant != "current":  # the unrolled D steps that XLA and MirroredStrategy still use
        gan._d_steps_in_a_loop = lambda: False
    adam = lambda lr: keras.optimizers.Adam(
        lr, RECIPE["adam_beta_1"], RECIPE["adam_beta_2"], RECIPE["adam_epsilon"]
    )
    gan.compile(
        d_optimizer=adam(RECIPE["d_learning_rate"]),
        g_optimizer=adam(RECIPE["g_learning_rate"]),
        jit_compile=jit,
    )
    return gan


def _op_flops(op):
    """Multiply-adds x 2 of a convolution, a convolution gradient or a matmul."""
    if op.type == "Conv2D":  # output elements x (kh kw cin)
        kernel = op.inputs[1].shape
        return 2 * op.outputs[0].shape.num_elements() * kernel[0] * kernel[1] * kernel[2]
    if op.type == "Conv2DBackpropInput":  # the same count as its forward convolution
        kernel = op.inputs[1].shape
        return 2 * op.inputs[2].shape.num_elements() * kernel[0] * kernel[1] * kernel[2]
    if op.type == "Conv2DBackpropFilter":
        kernel = op.outputs[0].shape
        return 2 * op.inputs[2].shape.num_elements() * kernel[0] * kernel[1] * kernel[2]
    if op.type == "MatMul":
        a, b = op.inputs
        columns = b.shape[-2] if op.get_attr("transpose_b") else b.shape[-1]
        return 2 * a.shape.num_elements() * columns
    return 0


def train_step_flops(width, dataset):
    """Floating-point operations of one training step, counted on its traced graph.

    The D steps are traced unrolled (a `tf.while_loop` body would be counted once)."""
    gan = make_gan(width, False)
    gan._d_steps_in_a_loop = lambda: False
    graph = tf.function(gan.train_step).get_concrete_function(dataset.element_spec).graph
    graphs = [graph] + [f.graph for f in graph._functions.values() if hasattr(f, "graph")]
    return sum(_op_flops(op) for g in graphs for op in g.get_operations())


def matmul_rate(iters):
    """The attainable float32 rate (FLOP/s): a 2048 x 2048 matmul."""
    a = tf.random.normal((2048, 2048))
    matmul = tf.function(tf.linalg.matmul)
    return 2 * 2048**3 / seconds_per_call(matmul, (a, a), iters)


def training_dataset():
    rng = np.random.default_rng(0)
    batch = RECIPE["batch_size"] * RECIPE["d_steps_per_g_step"]
    images = rng.uniform(-1, 1, size=(batch, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, size=batch).astype("int32")
    return tf.data.Dataset.from_tensors((images, labels)).repeat()


class StepTimes(keras.callbacks.Callback):
    """The wall time of each training step: `fit`'s set-up and tear-down (up to about a
    second at the end, while tf.data's iterator is released) are not a step's."""

    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self.start)

    def on_train_begin(self, logs=None):
        self.times = []


def time_first_step(gan, dataset):
    """Wall time of a first `fit` step: tracing, Grappler or XLA compilation, one step."""
    start = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0)
    return time.perf_counter() - start


def time_steps(gan, dataset, steps):
    """The median wall time of `steps` training steps in one `fit`."""
    timer = StepTimes()
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[timer])
    return statistics.median(timer.times)


def authors_iteration(args):
    """Seconds of one iteration of the authors' PyTorch code (`authors_biggan_step.py` in
    `args.authors_python`, on `args.authors_code`)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "authors_biggan_step.py")
    command = [args.authors_python, script, "--code", args.authors_code]
    command += ["--width", str(args.width), "--iters", str(args.steps)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(output.rsplit("iteration seconds:", 1)[1])


def make_forward(generator, jit):
    return tf.function(lambda z, y: generator([z, y], training=False), jit_compile=jit)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--modes", default="graph,xla", help="graph, xla or both")
    parser.add_argument(
        "--authors_code",
        help="DiffAugment-biggan-cifar of mit-han-lab/data-efficient-gans: also time the "
        "authors' PyTorch iteration (authors_biggan_step.py)",
    )
    parser.add_argument(
        "--authors_python", default=sys.executable, help="a Python with torch, for it"
    )
    args = parser.parse_args(argv)

    dataset = training_dataset()
    runs = [(mode, variant) for mode in args.modes.split(",") for variant in VARIANTS]
    gans = {run: make_gan(args.width, run[0] == "xla", run[1]) for run in runs}
    if "graph" in args.modes.split(","):
        runs.append(BF16)
        gans[BF16] = make_gan(args.width, False, policy="mixed_bfloat16")
    first_step = {run: time_first_step(gans[run], dataset) for run in runs}
    flops = train_step_flops(args.width, dataset)
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
    peak = []
    authors = []
    for _ in range(args.repeats):
        for run in runs:
            step_times[run].append(time_steps(gans[run], dataset, args.steps))
        if args.authors_code:  # alone on the cores: PyTorch slows down when they are shared
            authors.append(authors_iteration(args))
        for mode in modes:
            throughput[mode].append(len(z) / seconds_per_call(forwards[mode], (z, y), args.iters))
        peak.append(matmul_rate(args.iters))
    step = {run: statistics.median(times) for run, times in step_times.items()}
    rate = {mode: statistics.median(rates) for mode, rates in throughput.items()}
    peak = statistics.median(peak)

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
    if BF16 in runs:
        print(f"\nRoofline (graph mode): {flops / 1e9:.0f} GFLOP per step; float32 matmul peak")
        print(f"{peak / 1e9:.0f} GFLOP/s\n")
        reference = statistics.median(authors) if authors else None
        columns = " | of the authors' PyTorch time" if reference else ""
        print(f"| precision | step time (ms) | GFLOP/s | of the matmul peak | speed-up{columns} |")
        print("|---|---:|---:|---:|---:|" + "---:|" * bool(reference))
        base = step[("graph", "current")]
        for name, run in (("float32", ("graph", "current")), ("mixed_bfloat16", BF16)):
            achieved = flops / step[run]
            versus = f" {step[run] / reference:.2f}x |" if reference else ""
            print(
                f"| {name} | {1e3 * step[run]:.0f} | {achieved / 1e9:.0f} | "
                f"{achieved / peak:.0%} | {base / step[run]:.2f}x |{versus}"
            )
        if reference:
            print(
                f"\nThe authors' PyTorch iteration (float32, the same width, batch and D "
                f"steps): {1e3 * reference:.0f} ms, median of {len(authors)} trials "
                f"({', '.join(f'{1e3 * t:.0f}' for t in authors)})."
            )


if __name__ == "__main__":
    main()
