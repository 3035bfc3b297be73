"""DiffAugment vs no augmentation and the paper's ablation, at CPU scale.

    python benchmarks/ablation.py [--steps 1500] [--seeds 0,1] [--runs runs/ablation]

Trains the demo's small unconditional BigGAN (32 px) on the shipped emoji faces (24 held
out) with identical seeds and budgets for each setting (run directories under --runs;
finished runs are reused), then writes, into --out (default benchmarks/results, shown in
docs/experiments.md):
`results.md` (a markdown table with the leak statistic), `swd.png` (SWD vs images seen,
one line per setting), `d_gap.png` (D's sign accuracy on training minus held-out reals)
and each setting's final sample grid (first seed).

The leak statistic counts generated samples that contain a near-zero (gray) square of
the cutout's size: cutout paints such squares on what D sees, so a generator trained with
augmented reals only ("reals_only") learns to paint them, while DiffAugment (reals and
fakes augmented alike) gives it no reason to.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = {
    "none": ["--policy="],
    "diffaugment (color,translation,cutout)": ["--policy=color,translation,cutout"],
    "diffaugment (translation,cutout)": ["--policy=translation,cutout"],
    "reals_only": ["--policy=color,translation,cutout", "--augment_mode=reals_only"],
    "discriminator_only": [
        "--policy=color,translation,cutout",
        "--augment_mode=discriminator_only",
    ],
}


def train(name, seed, steps, out):
    run_dir = os.path.join(out, f"{name.split()[0]}-{name.split('(')[-1].strip(')')}-s{seed}")
    return run_dir, run_demo(run_dir, steps, seed, SETTINGS[name])


def demo_command(run_dir, steps, seed, flags, evaluations=6, precision="float32", preset="demo"):
    """train.py's command line of `run_demo` (see there)."""
    every = max(steps // evaluations, 1)
    return [
        os.path.join(ROOT, "train.py"),
        f"--preset={preset}",
        f"--run_dir={run_dir}",
        "--overwrite",
        f"--steps={steps}",
        f"--seed={seed}",
        f"--ckpt_every={every}",
        f"--eval_every={every}",
        f"--sample_every={steps}",
        f"--mixed_precision={precision}",
        *flags,
    ]


def run_demo(run_dir, steps, seed, flags, evaluations=6, precision="float32", preset="demo"):
    """Runs train.py's `preset` recipe (the demo's by default) with `flags` for `steps`
    steps (`evaluations` metric evaluations and checkpoints, one sample grid at the end)
    and returns its report.json; a run finished before with the same command is reused
    (seeds and settings can be added incrementally). `precision` is pinned (not
    --mixed_precision=auto) so that the results do not depend on the machine's CPU."""
    command = demo_command(run_dir, steps, seed, flags, evaluations, precision, preset)
    report_path = os.path.join(run_dir, "report.json")
    command_path = os.path.join(run_dir, "command.json")
    finished = os.path.exists(report_path) and os.path.exists(command_path)
    if not finished or _read_json(command_path) != command:
        subprocess.run([sys.executable, *command], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        with open(command_path, "w") as f:
            json.dump(command, f)
    return _read_json(report_path)


def recorded(path, command, measure=None):
    """The record (a JSON object) of one finished run, kept in the results so that an
    experiment adds up across interruptions and machines without its run directories.

    Returns the record at `path` when it was made by `command` (train.py's arguments
    without --run_dir, which differs between machines); otherwise `measure()`'s record,
    written to `path` (whole, then renamed) before it is returned; None without
    `measure`."""
    key = [arg for arg in command if not arg.startswith("--run_dir=")]
    if os.path.exists(path):
        record = _read_json(path)
        if record.get("command") == key:
            return record
    if measure is None:
        return None
    record = {"command": key, **measure()}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, default=float)
    os.replace(path + ".tmp", path)
    return record


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def gray_square_fraction(images, size=16, threshold=0.08):
    """Fraction of images (in [-1, 1]) with a size x size window whose mean |value| over
    pixels and channels is below `threshold`: the mark cutout leaves."""
    magnitude = np.abs(images).mean(axis=-1)  # (N, H, W)
    integral = np.pad(magnitude.cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))
    sums = (
        integral[:, size:, size:]
        - integral[:, :-size, size:]
        - integral[:, size:, :-size]
        + integral[:, :-size, :-size]
    )
    return float(np.mean((sums / size**2).min(axis=(1, 2)) < threshold))


def samples_of(run_dir, num=256):
    import tensorflow as tf

    serve = tf.saved_model.load(os.path.join(run_dir, "export")).signatures["serving_default"]
    latents = np.random.default_rng(123).standard_normal((num, 128)).astype(np.float32)
    return serve(latents=tf.constant(latents))["images"].numpy()


def plot(curves, ylabel, path, xlabel="real images shown to D (thousands)"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (x, mean, spread) in curves.items():
        ax.plot(x, mean, label=name)
        ax.fill_between(x, mean - spread, mean + spread, alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def mean_std(values, digits=1):
    """'mean ± std' over seeds (the value alone for one seed)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def write_results(out, lines, swd_curves, gap_curves, swd_label="SWD x 1e3"):
    """Writes the table `lines` to `out`/results.md and the SWD and D-gap curves to
    swd.png and d_gap.png; prints the table."""
    table = "\n".join(lines)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(table + "\n")
    plot(swd_curves, swd_label, os.path.join(out, "swd.png"))
    plot(gap_curves, "D sign accuracy: train - held-out", os.path.join(out, "d_gap.png"))
    print(table)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds")
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "ablation"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.runs, exist_ok=True)

    rows, swd_curves, gap_curves = [], {}, {}
    for name in SETTINGS:
        reports = [train(name, seed, args.steps, args.runs) for seed in seeds]
        swd = np.array([[e["swd"] for e in r["evaluations"]] for _, r in reports])
        gap = np.array([[e["accuracy_gap"] for e in r["overfitting"]] for _, r in reports])
        batch = reports[0][1]["config"]["batch_size"]
        kimg = np.array([e["step"] for e in reports[0][1]["evaluations"]]) * batch / 1000
        swd_curves[name] = (kimg, swd.mean(0), swd.std(0))
        gap_curves[name] = (kimg, gap.mean(0), gap.std(0))
        leak = [gray_square_fraction(samples_of(run_dir)) for run_dir, _ in reports]
        first_run = reports[0][0]
        shutil.copy(
            os.path.join(first_run, "samples", f"samples_{args.steps:07d}.png"),
            os.path.join(args.out, f"samples_{os.path.basename(first_run)}.png"),
        )
        rows.append((name, swd[:, -1], swd.min(1), gap[:, -1], np.array(leak)))

    fmt, fmt3 = mean_std, lambda v: mean_std(v, 3)
    lines = [
        f"{args.steps} steps x batch {batch}, seeds {seeds}; SWD x 1e3 (lower is better)\n",
        "| setting | final SWD | best SWD | D accuracy gap (train - held-out) "
        "| samples with a gray cutout-sized square |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {fmt(final)} | {fmt(best)} | {fmt3(g)} | {fmt3(leak)} |"
        for n, final, best, g, leak in rows
    ]
    write_results(args.out, lines, swd_curves, gap_curves)


if __name__ == "__main__":
    main()
