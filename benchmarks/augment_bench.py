"""Forward+backward throughput of DiffAugment: ours vs a straightforward port of the paper's.

    python benchmarks/augment_bench.py [--repeats 7] [--iters 20] [--quick]
        [--backends tensorflow,jax,torch] [--compile-budget SECONDS]

Policy "color,translation,cutout" at 32 px x 64, 128 px x 32 and 256 px x 16, each in graph
mode and with `jit_compile=True`. Both implementations sample their parameters inside the
timed function (ours from the layer's SeedGenerator, the port with stateful `tf.random` as
the paper does) and back-propagate to the images. Timings are interleaved across variants
and the median of `--repeats` trials is reported, so that a shared, noisy machine affects
all variants alike; compare the ratio columns, not the absolute numbers. The graph and XLA
columns time the two formulations that `tf_diffaug.transform.compiling_with_xla`
chooses between.

The JAX and PyTorch rows (a second table) are measured the same way, each backend in a
process of its own (`augment_bench_backend.py`, which says what each row runs): ours
under `jax.jit`; ours and the authors' DiffAugment_pytorch.py (ported op by op in
`reference_port_torch.py`), eagerly and under `torch.compile`. Their ratios are to the
authors' PyTorch code run eagerly on the same kind of device. They run on the GPU when
the backend sees one, and the devices are printed. Once `--compile-budget` seconds
(default 120) have gone into `torch.compile`'s compiling, the cells left are skipped
(n/a, with the reason in a footnote), so that a run stays within minutes. A backend that
is not installed is skipped with a line that says what to install; this script imports
TensorFlow only for the TensorFlow table, so `--backends jax,torch` runs without it.
`--quick` is a smoke run (3 x 5 steps, no `torch.compile`).
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Standard library only: TensorFlow is imported by `tensorflow_table` alone.
from augment_bench_backend import BASELINE, RESULT_PREFIX, cpu_name  # noqa: E402

POLICY = "color,translation,cutout"
CASES = ((32, 64), (128, 32), (256, 16))
BACKENDS = ("tensorflow", "jax", "torch")
INSTALL = {
    "tensorflow": "pip install tensorflow, or pip install -e '.[gan]'",
    "jax": "pip install -e '.[jax]'",
    "torch": "pip install -e '.[torch]'",
}
TITLES = {"jax": "JAX", "torch": "PyTorch"}


def make_step(tf, augment_fn, jit):
    @tf.function(jit_compile=jit)
    def step(images, weights):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(augment_fn(images) * weights)
        # The loss is returned too, so that XLA cannot drop the forward pass (the
        # gradient of these linear maps does not depend on it).
        return loss, tape.gradient(loss, images)

    return step


def tensorflow_table(repeats, iters):
    """The TensorFlow table's lines: port vs ours, in graph mode and under XLA."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import reference_port
    import tensorflow as tf
    from timing import seconds_per_call

    import tf_diffaug

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
            (name, jit): make_step(tf, fn, jit)
            for name, fn in variants.items()
            for jit in (False, True)
        }
        for step in steps.values():  # trace, compile, warm up
            for _ in range(3):
                step(images, weights)[0].numpy()
        samples = {key: [] for key in steps}
        for _ in range(repeats):
            for key, step in steps.items():
                samples[key].append(seconds_per_call(step, (images, weights), iters))
        seconds = {key: statistics.median(values) for key, values in samples.items()}
        mpix = batch * side * side / 1e6
        rate = {key: mpix / s for key, s in seconds.items()}
        rows.append((side, batch, rate))

    gpus = tf.config.list_physical_devices("GPU")
    device = (
        tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
        if gpus
        else cpu_name()
    )
    lines = [
        f"DiffAugment forward+backward, policy {POLICY!r}, TF {tf.__version__}, "
        f"{os.cpu_count()} CPU cores; Mpix/s (median of {repeats} x {iters} steps)",
        f"TensorFlow device: {device}",
        "",
        "| images | port graph | ours graph | ratio | port XLA | ours XLA | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for side, batch, rate in rows:
        g = rate[("ours", False)] / rate[("port", False)]
        x = rate[("ours", True)] / rate[("port", True)]
        lines.append(
            f"| {side} px x {batch} | {rate[('port', False)]:.1f} | {rate[('ours', False)]:.1f} "
            f"| {g:.2f}x | {rate[('port', True)]:.1f} | {rate[('ours', True)]:.1f} | {x:.2f}x |"
        )
    return lines


def run_backend(backend, args):
    """Runs `augment_bench_backend.py` for one backend; its result dict, or None."""
    command = [
        sys.executable,
        os.path.join(HERE, "augment_bench_backend.py"),
        f"--backend={backend}",
        f"--repeats={args.repeats}",
        f"--iters={args.iters}",
    ]
    if args.compile_budget is not None:
        command.append(f"--compile-budget={args.compile_budget:g}")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    print(f"{TITLES[backend]} rows ...", file=sys.stderr, flush=True)
    # Its messages go to our stderr; stdout carries the result line.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    print(f"{TITLES[backend]} rows failed (exit code {done.returncode}); see its messages.")
    return None


def backends_table(results, repeats, iters):
    """The JAX and PyTorch table's lines: Mpix/s, and the ratio to the authors' PyTorch
    code run eagerly on the same kind of device."""
    torch_result = results.get("torch")
    baseline = torch_result["rates"][BASELINE] if torch_result else None
    lines = [
        f"DiffAugment forward+backward on JAX and PyTorch, policy {POLICY!r}; Mpix/s "
        f"(median of {repeats} x {iters} steps) and, in parentheses, the ratio to the "
        "authors' PyTorch code run eagerly on the same kind of device",
    ]
    for backend, result in results.items():
        lines.append(
            f"{TITLES[backend]} {result['version']} device: {result['device']} "
            f"({result['layout']} images)"
        )
    header = " | ".join(f"{side} px x {batch}" for side, batch in CASES)
    lines += ["", f"| backend | implementation | {header} |", "|---|---|" + "---:|" * len(CASES)]
    footnotes = []

    def footnote(text):
        if text not in footnotes:
            footnotes.append(text)
        return f"[{footnotes.index(text) + 1}]"

    for backend, result in results.items():
        same_device = torch_result is not None and (
            result["device_kind"] == torch_result["device_kind"]
        )
        for key, label in result["rows"].items():
            if backend == "torch" and key == BASELINE:
                label += " (baseline)"
            cells = []
            for index, rate in enumerate(result["rates"][key]):
                if rate is None:
                    reason = result["notes"].get(key, "not measured")
                    cells.append(f"n/a {footnote(f'{TITLES[backend]} {reason}')}")
                    continue
                if torch_result is None:
                    why = "PyTorch, whose eager port is the baseline, did not run"
                elif not same_device:
                    why = (
                        f"{TITLES[backend]} ran on {result['device_kind']} and PyTorch on "
                        f"{torch_result['device_kind']}"
                    )
                elif baseline[index] is None:
                    why = "the baseline did not run"
                else:
                    why = None
                if why is None:
                    cells.append(f"{rate:.1f} ({rate / baseline[index]:.2f}x)")
                else:
                    cells.append(f"{rate:.1f} (n/a {footnote('no ratio: ' + why)})")
            lines.append(f"| {TITLES[backend]} | {label} | " + " | ".join(cells) + " |")
    if torch_result and torch_result["compile_seconds"]:
        spent = "; ".join(
            f"{torch_result['rows'][key].split(', torch.compile')[0]} {seconds:.0f} s"
            for key, seconds in torch_result["compile_seconds"].items()
        )
        lines += [
            "",
            "torch.compile's compile time (first calls, forward and backward, over the "
            f"cases measured): {spent}.",
        ]
    if footnotes:
        lines.append("")
        lines += [f"[{number}] {text}" for number, text in enumerate(footnotes, 1)]
    for backend, result in results.items():
        if result.get("tensorflow_imported"):
            lines.append(f"Note: the {TITLES[backend]} process imported TensorFlow.")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="default 7 (--quick: 3)")
    parser.add_argument("--iters", type=int, default=None, help="default 20 (--quick: 5)")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated subset of %(default)s",
    )
    parser.add_argument(
        "--compile-budget",
        type=float,
        default=None,
        help="seconds of torch.compile compiling after which the remaining torch.compile "
        "cells are skipped; 0 skips torch.compile (default 120, --quick: 0)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 x 5 steps and no torch.compile: a smoke run"
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.iters is None:
        args.iters = 5 if args.quick else 20
    if args.quick and args.compile_budget is None:
        args.compile_budget = 0
    requested = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = sorted(set(requested) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {', '.join(BACKENDS)}")

    installed = []
    for backend in BACKENDS:
        if backend not in requested:
            continue
        if importlib.util.find_spec(backend) is None:
            print(
                f"{backend} rows skipped: the {backend} package is not installed "
                f"({INSTALL[backend]})"
            )
        else:
            installed.append(backend)

    # PyTorch first (its eager port is the ratios' baseline), then JAX, each in a process
    # of its own and one after the other, so that no two frameworks hold a GPU at once;
    # TensorFlow last, in this process.
    results = {}
    for backend in ("torch", "jax"):
        if backend in installed:
            result = run_backend(backend, args)
            if result is not None:
                results[backend] = result
    tensorflow_lines = (
        tensorflow_table(args.repeats, args.iters) if "tensorflow" in installed else []
    )
    tables = [tensorflow_lines] if tensorflow_lines else []
    if results:
        tables.append(backends_table(results, args.repeats, args.iters))
    print("\n\n".join("\n".join(lines) for lines in tables))


if __name__ == "__main__":
    main()
