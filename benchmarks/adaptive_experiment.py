"""Adaptive DiffAugment (ADA's controller on DiffAugment's p) vs p = 1 vs none, two sizes.

    python benchmarks/adaptive_experiment.py [--steps 800] [--seeds 0,1] [--ada_kimg 4]
        [--ada_targets 0.6]

Trains the demo model (unconditional BigGAN, width 8, 32 px, batch 16; 24 images held
out) with identical seeds and budgets under these settings: no augmentation, DiffAugment
`color,translation,cutout` at the paper's fixed p = 1, and the same policy with an
adaptive p (`--augment_p=adaptive`, ADA's interval 4, `--ada_kimg` scaled to the run,
one setting per r_t target of `--ada_targets`: ADA's 0.6 by default), on two dataset
sizes: the shipped emoji faces (145 training images) and every Noto emoji (about 1,900,
built with `python benchmarks/emoji_build.py build --set all`, which needs npm; without npm
a 48-image subset of the faces is the small set instead).
Run directories go to --runs (finished runs are reused). Writes, into --out (default
benchmarks/results/adaptive, shown in docs/experiments.md): `results.md` (the table) and, per
dataset size, `swd-<size>.png` and `d_gap-<size>.png` (mean and spread over seeds), and
`p.png` (the adaptive p over training, every seed).
"""

import argparse
import json
import os
import subprocess

import emoji_build
import numpy as np
from ablation import ROOT, plot, run_demo

FIXED_P = {"none": "-", "fixed p = 1": "1"}  # the table's p column
EVALUATIONS = 8  # metric evaluations (and checkpoints) per run


def settings(targets, ada_kimg):
    """`{label: train.py flags}`: none, p = 1 (the demo's policy, color,translation,cutout)
    and one adaptive setting per r_t target ("adaptive p" is ADA's 0.6)."""
    result = {"none": ["--policy="], "fixed p = 1": []}
    for target in targets:
        label = "adaptive p" if target == 0.6 else f"adaptive p, target {target:g}"
        extra = [] if target == 0.6 else [f"--ada_target={target:g}"]
        result[label] = ["--augment_p=adaptive", f"--ada_kimg={ada_kimg:g}", *extra]
    return result


def datasets(runs):
    """`{label: train.py flags}` of the two dataset sizes, smallest first."""
    faces = ["--dataset=emoji_faces"]
    large = os.path.join(runs, "emoji_all")
    try:
        if not os.path.exists(os.path.join(large, "manifest.json")):
            emoji_build.build(large, "all")
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"Could not build the full emoji set ({error}); using a subset of the faces.")
        return {"48 faces": [*faces, "--num_images=48"], "145 faces": faces}
    with open(os.path.join(large, "manifest.json")) as f:
        count = json.load(f)["count"] - 24  # the demo holds 24 out
    return {"145 faces": faces, f"{count:,} emoji": [f"--dataset={large}"]}


def slug(text):
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def logged(run_dir, tag):
    """(steps, values) of a scalar the TensorBoard callback logged during training (the
    GAN's `augment_p` and `r_t` every `ckpt_every // 10` steps)."""
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(os.path.join(run_dir, "logs", "train"), {"tensors": 0})
    events.Reload()
    series = events.Tensors(f"batch_{tag}")
    steps = np.array([e.step for e in series])
    return steps, np.array([float(tf.make_ndarray(e.tensor_proto)) for e in series])


def curves(reports, key, records):
    """(kimg, mean, std) over seeds of `key` in each report's `records` list."""
    values = np.array([[r[key] for r in report[records]] for _, report in reports])
    config = reports[0][1]["config"]
    kimg = np.array([r["step"] for r in reports[0][1][records]]) * config["batch_size"] / 1000
    return kimg, values.mean(0), values.std(0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds")
    parser.add_argument("--ada_kimg", type=float, default=4.0)
    parser.add_argument(
        "--ada_targets", default="0.6", help="comma-separated r_t targets, one setting each"
    )
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "adaptive"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "adaptive"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    targets = [float(t) for t in args.ada_targets.split(",")]
    every = max(args.steps // EVALUATIONS, 1)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.runs, exist_ok=True)

    fmt = lambda v, d: f"{v.mean():.{d}f} ± {v.std():.{d}f}" if len(v) > 1 else f"{v[0]:.{d}f}"
    rows, p_curves = [], {}
    for size, data_flags in datasets(args.runs).items():
        swd_curves, gap_curves = {}, {}
        for setting, flags in settings(targets, args.ada_kimg).items():
            run_dirs = [
                os.path.join(args.runs, f"{slug(size)}-{slug(setting)}-s{seed}") for seed in seeds
            ]
            reports = [
                (run_dir, run_demo(run_dir, args.steps, seed, [*data_flags, *flags], EVALUATIONS))
                for run_dir, seed in zip(run_dirs, seeds, strict=True)
            ]
            swd_curves[setting] = curves(reports, "swd", "evaluations")
            gap_curves[setting] = curves(reports, "accuracy_gap", "overfitting")
            swd = np.array([[e["swd"] for e in r["evaluations"]] for _, r in reports])
            gap = np.array([[e["accuracy_gap"] for e in r["overfitting"]] for _, r in reports])
            half = gap.shape[1] // 2
            batch = reports[0][1]["config"]["batch_size"]
            p_cells = [FIXED_P.get(setting), "-", "-"]
            if p_cells[0] is None:  # adaptive: p and r_t as TensorBoard got them
                p, r_t = [], []
                for (run_dir, _), seed in zip(reports, seeds, strict=True):
                    steps, values = logged(run_dir, "augment_p")
                    curve = (steps * batch / 1000, values, 0 * values)
                    p_curves[f"{size}, {setting}, seed {seed}"] = curve
                    p.append(values)
                    r_t.append(logged(run_dir, "r_t")[1].mean())
                p = np.array(p)
                p_cells = [fmt(p[:, -1], 3), fmt(p.mean(1), 3), fmt(np.array(r_t), 3)]
            rows.append(
                f"| {size} | {setting} | {fmt(swd[:, -1], 1)} | {fmt(swd.min(1), 1)} "
                f"| {fmt(gap[:, -1], 3)} | {fmt(gap[:, half:].mean(1), 3)} | "
                + " | ".join(p_cells)
                + " |"
            )
        plot(swd_curves, f"SWD x 1e3, {size}", os.path.join(args.out, f"swd-{slug(size)}.png"))
        plot(
            gap_curves,
            f"D sign accuracy: train - held-out, {size}",
            os.path.join(args.out, f"d_gap-{slug(size)}.png"),
        )
    plot(p_curves, "adaptive p", os.path.join(args.out, "p.png"))

    lines = [
        f"{args.steps} steps x batch {batch} ({args.steps * batch / 1000:g} kimg), seeds {seeds}, "
        f"adaptive: interval 4, ada_kimg {args.ada_kimg:g} (r_t target 0.6 unless named); SWD "
        f"x 1e3 (lower is better) and D's train - held-out sign accuracy gap evaluated every "
        f"{every} steps; mean p and r_t over the values logged every {every // 10} steps",
        "",
        "| data | setting | final SWD | best SWD | D gap, final | D gap, mean of 2nd half "
        "| p at the end | mean p | mean r_t |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]
    table = "\n".join(lines)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
