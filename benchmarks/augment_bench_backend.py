"""The JAX or PyTorch rows of `augment_bench.py`, measured in a process of their own.

    python benchmarks/augment_bench_backend.py --backend torch [--repeats 7] [--iters 20]
    python benchmarks/augment_bench_backend.py --backend jax [--repeats 7] [--iters 20]

A process has one Keras backend, so `augment_bench.py` starts this script once per
backend (it sets KERAS_BACKEND from `--backend` before Keras is imported) and reads the
JSON line that it prints on stdout (prefixed with `RESULT_PREFIX`); its other messages go
to stderr. Same policy, cases and discipline as the TensorFlow table: forward and backward
to the images of a loss that is returned, parameters sampled inside the timed function,
variants interleaved and the median of `--repeats` trials of `--iters` steps each.

- PyTorch: the authors' DiffAugment_pytorch.py, ported op by op in
  `reference_port_torch.py` (the baseline), eagerly and under `torch.compile`, and ours
  (`tf_diffaug.DiffAugment`, `data_format="channels_first"`) the same two ways; both
  are given the same NCHW tensor and return NCHW. `torch.compile` compiles the augmentation
  (sampling included) and the backward pass runs through its compiled graphs, as when a
  model that contains it is compiled.
- JAX: ours under `jax.jit` (NHWC, Keras's default layout), through
  `layer.stateless_call` with the seed generator's state passed in and out, and
  `jax.value_and_grad`.

The GPU is used when the backend sees one, and every timing waits for the device
(`torch.cuda.synchronize`, `jax.block_until_ready`).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings

RESULT_PREFIX = "AUGMENT_BENCH_RESULT "
BACKENDS = ("jax", "torch")
# Keys of the rows, in the order they are printed; the first is the ratios' baseline.
TORCH_ROWS = {
    "port_eager": "authors' code (port), eager",
    "port_compile": "authors' code (port), torch.compile",
    "ours_eager": "ours, eager",
    "ours_compile": "ours, torch.compile",
}
JAX_ROWS = {"ours_jit": "ours, jax.jit"}
ROWS = {**TORCH_ROWS, **JAX_ROWS}
BASELINE = "port_eager"
# Seconds of torch.compile compiling (first calls) after which the remaining compiled
# cells are skipped, so that a default run stays within minutes: Inductor generates and
# builds code for each shape and implementation (about 85 s for all six, cold, on 2 CPU
# cores).
COMPILE_BUDGET = 120
WARMUP = 3


def cpu_name():
    """The CPU model (from /proc/cpuinfo on Linux) and the number of cores."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores)"


def seconds_per_call(step, iters, sync):
    """Mean wall time of `step()` over `iters` calls; `sync(result)` waits until the
    device has finished (GPUs and JAX run asynchronously), before and after."""
    sync(None)
    start = time.perf_counter()
    for _ in range(iters):
        result = step()
    sync(result)
    return (time.perf_counter() - start) / iters


def error_line(error):
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]


def measure(cases, make_variants, sync, repeats, iters, compile_budget=None):
    """Mpix/s per variant and case, None where a variant failed or was skipped.

    `make_variants(side, batch)` returns {key: (step, compiled)}; `compiled` steps
    count their first call against `compile_budget` seconds (None: no limit), and once
    they are spent the remaining compiled steps are skipped. Returns (rates, notes,
    compile_seconds) with rates[key] a list over cases and notes[key] a reason.
    """
    rates, notes, compile_seconds = {}, {}, {}
    for index, (side, batch) in enumerate(cases):
        print(f"  {side} px x {batch}", file=sys.stderr, flush=True)
        steps = {}
        for key, (step, compiled) in make_variants(side, batch).items():
            rates.setdefault(key, [None] * len(cases))
            if key in notes:  # failed or skipped at an earlier case
                continue
            spent = sum(compile_seconds.values())
            if compiled and compile_budget is not None and spent >= compile_budget:
                notes[key] = (
                    f"{ROWS[key]}: skipped, {spent:.0f} s of compiling used up --compile-budget "
                    f"{compile_budget:g}" + (f" (from {cases[index][0]} px on)" if index else "")
                )
                continue
            try:
                start = time.perf_counter()
                sync(step())
                if compiled:
                    compile_seconds[key] = (
                        compile_seconds.get(key, 0.0) + time.perf_counter() - start
                    )
                for _ in range(WARMUP - 1):
                    sync(step())
            except Exception as error:  # a failed variant is reported, not fatal
                notes[key] = f"{ROWS[key]}: failed, {error_line(error)}"
                continue
            steps[key] = step
        samples = {key: [] for key in steps}
        for _ in range(repeats):
            for key, step in steps.items():
                samples[key].append(seconds_per_call(step, iters, sync))
        mpix = batch * side * side / 1e6
        for key, values in samples.items():
            rates[key][index] = mpix / statistics.median(values)
    return rates, notes, compile_seconds


def torch_rows(args, cases, policy):
    import reference_port_torch as port
    import torch

    import tf_diffaug

    # Dynamo's notes on what it traces (e.g. Keras's cached dtype lookups) are not results.
    warnings.filterwarnings("ignore", message="Dynamo detected")
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(device) if cuda else cpu_name()

    def sync(_):
        if cuda:
            torch.cuda.synchronize(device)

    def make_step(augment, images, weights):
        def step():
            loss = torch.sum(augment(images) * weights)
            (grad,) = torch.autograd.grad(loss, images)
            # The loss is returned too, as in the TensorFlow table.
            return loss.detach(), grad

        return step

    def compiled(fn):
        # One static graph per shape, as the TensorFlow and JAX rows trace one per case.
        return torch.compile(fn, dynamic=False)

    def make_variants(side, batch):
        generator = torch.Generator(device=device).manual_seed(side)
        images = torch.rand((batch, 3, side, side), generator=generator, device=device)
        images = (images * 2 - 1).requires_grad_(True)
        weights = torch.randn(images.shape, generator=generator, device=device)
        layer = tf_diffaug.DiffAugment(policy, seed=0, data_format="channels_first")
        port_fn = lambda x: port.augment(x, port.sample(x))
        ours_fn = lambda x: layer(x, training=True)
        variants = {
            "port_eager": (port_fn, False),
            "port_compile": (compiled(port_fn), True),
            "ours_eager": (ours_fn, False),
            "ours_compile": (compiled(ours_fn), True),
        }
        return {
            key: (make_step(fn, images, weights), is_compiled)
            for key, (fn, is_compiled) in variants.items()
        }

    rates, notes, compile_seconds = measure(
        cases, make_variants, sync, args.repeats, args.iters, args.compile_budget
    )
    if args.compile_budget == 0:
        for key in ("port_compile", "ours_compile"):
            notes[key] = "torch.compile: skipped (--compile-budget 0, or --quick)"
    return result(torch.__version__, cuda, name, "NCHW", TORCH_ROWS, rates, notes, compile_seconds)


def result(version, gpu, device, layout, rows, rates, notes, compile_seconds):
    """One backend's measurements, as the JSON line the parent script reads."""
    return {
        "version": version,
        "device_kind": "gpu" if gpu else "cpu",
        "device": device,
        "layout": layout,
        "rows": rows,
        "rates": rates,
        "notes": notes,
        "compile_seconds": compile_seconds,
    }


def jax_rows(args, cases, policy):
    import jax
    import jax.numpy as jnp

    import tf_diffaug

    device = jax.devices()[0]
    gpu = device.platform != "cpu"
    name = f"{device.device_kind} ({device.platform})" if gpu else cpu_name()

    def sync(result):
        if result is not None:
            jax.block_until_ready(result)

    def make_variants(side, batch):
        key_images, key_weights = jax.random.split(jax.random.key(side))
        images = jax.random.uniform(key_images, (batch, side, side, 3), minval=-1, maxval=1)
        weights = jax.random.normal(key_weights, images.shape)
        layer = tf_diffaug.DiffAugment(policy, seed=0)

        def loss_fn(x, state, w):
            out, state = layer.stateless_call([], state, x, training=True)
            return jnp.sum(out * w), state

        @jax.jit
        def train_step(state, x, w):
            (loss, state), grad = jax.value_and_grad(loss_fn, has_aux=True)(x, state, w)
            return state, loss, grad

        state = [variable.value for variable in layer.non_trainable_variables]

        def step():
            # The seed generator's state goes in and comes out, so every step draws
            # new parameters, as the eager layer would.
            nonlocal state
            state, loss, grad = train_step(state, images, weights)
            return loss, grad

        return {"ours_jit": (step, False)}

    rates, notes, _ = measure(cases, make_variants, sync, args.repeats, args.iters)
    return result(jax.__version__, gpu, name, "NHWC", JAX_ROWS, rates, notes, {})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument(
        "--compile-budget",
        type=float,
        default=COMPILE_BUDGET,
        help="seconds of torch.compile compiling after which the remaining compiled "
        "cells are skipped; 0: no torch.compile (default %(default)s)",
    )
    args = parser.parse_args(argv)

    os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    sys.path.insert(1, os.path.dirname(here))  # tf_diffaug from a checkout too

    import keras
    from augment_bench import CASES, POLICY

    if keras.backend.backend() != args.backend:
        raise SystemExit(
            f"Keras was already set to the {keras.backend.backend()!r} backend; "
            f"run this script in a fresh process"
        )
    rows = torch_rows if args.backend == "torch" else jax_rows
    result = rows(args, CASES, POLICY)
    result["backend"] = args.backend
    result["repeats"], result["iters"] = args.repeats, args.iters
    result["tensorflow_imported"] = "tensorflow" in sys.modules
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
