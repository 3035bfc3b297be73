"""Settings compared with a baseline on the regime experiment's 100 faces, seed by seed.

The shared machinery of `lecam_experiment.py` and `stylegan2_experiment.py`: each trains
a few settings of train.py on `regime_experiment.py`'s data (100 Noto faces, 69 held
out; FID / KID / precision / recall of 100 samples on the offline emoji extractor
against the training faces, SWD on pixels, D's sign-accuracy gap between training and
held-out reals), several seeds each, and compares every setting with a baseline setting.

- `train_all` trains in `run_order` and keeps each finished run's report as a record in
  `<out>/records/<prefix>-s<seed>.json` (`ablation.recorded`): a record made by the same
  command is never trained again, so an experiment adds up across interruptions, and
  its run directories can be deleted.
- After each run, `results.md` (the `table`) and the figures (`figures`) in --out are
  rebuilt from the records finished so far.
- A difference from the baseline (over the seeds finished in both) is **bold** when it
  is beyond both the measured noise floor (`benchmarks/results/metric_noise.json`) and
  2 standard errors of the difference of the seed means (`regime_experiment.difference`);
  the D gap has no measured floor, so only its seed spread decides (and one seed per side
  is never marked).
"""

import os
import shutil

import numpy as np
from ablation import demo_command, mean_std, plot, recorded, run_demo
from regime_experiment import FACES_FLOORS, curve, difference, floor_at, history, marked

METRICS = (("fid", 1), ("kid", 3), ("precision", 2), ("recall", 2), ("swd", 1))
RECORDED = ("config", "history", "evaluations", "overfitting")  # of report.json


def run_order(names, seeds, primary=2):
    """(setting, seed) pairs in training order: the `primary` first settings seed by seed
    (so that an interruption leaves the main comparison on equal seeds), then each other
    setting seed by seed."""
    first = [(name, seed) for seed in seeds for name in names[:primary]]
    return first + [(name, seed) for name in names[primary:] for seed in seeds]


def final_values(report):
    """{metric: final value} of a run: the evaluated metrics and D's accuracy gap."""
    values = {m: history(report, "evaluations", m)[1][-1] for m, _ in METRICS}
    values["gap"] = history(report, "overfitting", "accuracy_gap")[1][-1]
    return values


class _NoFloor:
    """A noise floor that every difference exceeds (for `difference`)."""

    def significant(self, diff, z=2.0):
        return True


def gap_cell(baseline, values, z=2.0):
    """A D-gap Δ cell: no measured noise floor, so bold only when beyond `z` standard
    errors of the seed means with at least two seeds per side."""
    if len(baseline) < 2 or len(values) < 2:
        return f"{np.mean(values) - np.mean(baseline):+.2f}"
    diff, significant = difference(baseline, values, _NoFloor(), z)
    return f"**{diff:+.2f}**" if significant else f"{diff:+.2f}"


def table(finished, floors, baseline, caption):
    """The markdown lines of the table of the runs in `finished` ({name: {seed: report}}),
    each setting against `baseline`, under `caption` (what was trained)."""
    lines = [
        f"{caption} FID / KID / precision / recall on the offline emoji extractor (not "
        "Inception), 100 generated vs the 100 training faces; SWD x 1e3; D gap: D's sign "
        "accuracy on training minus held-out reals. Final values, mean ± std over the "
        f"seeds finished; Δ: minus {baseline} over the seeds finished in both, "
        "**bold** when beyond both the noise floor (real vs real, N = "
        f"{floor_at(floors, FACES_FLOORS, 'fid', 100).num}) and 2 standard errors over "
        "seeds (D gap: no floor measured, the seed spread alone, >= 2 seeds).\n",
        "| setting | seeds | FID | Δ FID | KID | Δ KID | precision | Δ precision | recall "
        "| Δ recall | SWD | Δ SWD | D gap | Δ D gap |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = finished.get(baseline, {})
    for name, runs in finished.items():
        if not runs:
            continue
        seeds = sorted(runs)
        values = {k: [final_values(runs[s])[k] for s in seeds] for k in ("gap", *dict(METRICS))}
        common = [s for s in seeds if s in base]
        cells = [name, ", ".join(map(str, seeds))]
        for metric, digits in METRICS:
            delta = "—"
            if name != baseline and common:
                delta = marked(
                    [final_values(base[s])[metric] for s in common],
                    [final_values(runs[s])[metric] for s in common],
                    floor_at(floors, FACES_FLOORS, metric, 100),
                    digits,
                )
            cells += [mean_std(values[metric], digits), delta]
        delta = "—"
        if name != baseline and common:
            delta = gap_cell(
                [final_values(base[s])["gap"] for s in common],
                [final_values(runs[s])["gap"] for s in common],
            )
        cells += [mean_std(values["gap"], 2), delta]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def epoch_curve(reports, key):
    """(kimg, mean, std) over seeds of a per-epoch `fit` log (report.json's "history"),
    each value the mean over its epoch of `eval_every` steps."""
    values = np.array([r["history"][key] for r in reports], float)
    config = reports[0]["config"]
    steps = np.arange(1, values.shape[1] + 1) * config["eval_every"]
    return steps * config["batch_size"] / 1000, values.mean(0), values.std(0)


def figures(finished, out):
    """`fid.png`, `d_gap.png` and `logits.png` (D's mean real - fake logit per epoch) of
    the runs in `finished`, mean and spread over seeds; `lecam.png` (the logged penalty
    without its weight) when a run logs one."""
    reports = {n: [runs[s] for s in sorted(runs)] for n, runs in finished.items() if runs}
    fid = {n: curve(r, "evaluations", "fid") for n, r in reports.items()}
    plot(fid, "FID (emoji extractor, 100 vs 100)", os.path.join(out, "fid.png"))
    gaps = {n: curve(r, "overfitting", "accuracy_gap") for n, r in reports.items()}
    plot(gaps, "D sign accuracy: train - held-out", os.path.join(out, "d_gap.png"))
    logits = {}
    for name, runs in reports.items():
        kimg = epoch_curve(runs, "d_real_logits")[0]
        logs = [r["history"] for r in runs]
        margin = np.array([np.subtract(h["d_real_logits"], h["d_fake_logits"]) for h in logs])
        logits[name] = (kimg, margin.mean(0), margin.std(0))
    plot(logits, "D's mean logit: reals - fakes (epoch means)", os.path.join(out, "logits.png"))
    lecam = {n: epoch_curve(r, "lecam") for n, r in reports.items() if "lecam" in r[0]["history"]}
    if lecam:
        plot(lecam, "LeCam penalty, unweighted (epoch means)", os.path.join(out, "lecam.png"))
    import matplotlib.pyplot as plt

    plt.close("all")


def train_all(compared, baseline, args, caption, primary=2, preset="demo"):
    """Trains (or reads the records of) every (setting, seed) of `compared` ({name:
    (file prefix, train.py flags)}) with train.py's `preset` recipe for `args.steps`
    steps with an evaluation every 250, for the seeds of `args.seeds` (comma-separated)
    and against the noise floors of `args.floors` (`add_regime_arguments`), rebuilding
    `results.md` and the figures in `args.out` after each run; copies the first seed's
    final samples to `samples_<prefix>.png` while its run directory exists. Returns the
    table's lines."""
    from keras_models.metrics import load_noise_floors

    seeds = [int(s) for s in args.seeds.split(",")]
    floors = load_noise_floors(args.floors)
    os.makedirs(args.out, exist_ok=True)
    finished = {name: {} for name in compared}
    evaluations = args.steps // 250
    text = ""
    for name, seed in run_order(list(compared), seeds, primary):
        prefix, flags = compared[name]
        run_dir = os.path.join(args.runs, f"{prefix}-s{seed}")
        command = demo_command(run_dir, args.steps, seed, flags, evaluations, preset=preset)

        def measure(run_dir=run_dir, seed=seed, flags=flags):
            report = run_demo(run_dir, args.steps, seed, flags, evaluations, preset=preset)
            return {key: report[key] for key in RECORDED}

        finished[name][seed] = recorded(
            os.path.join(args.out, "records", f"{prefix}-s{seed}.json"), command, measure
        )
        samples = os.path.join(run_dir, "samples", f"samples_{args.steps:07d}.png")
        if seed == seeds[0] and os.path.exists(samples):
            shutil.copy(samples, os.path.join(args.out, f"samples_{prefix}.png"))
        text = "\n".join(table(finished, floors, baseline, caption)) + "\n"
        with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
            f.write(text)
        figures(finished, args.out)
        print(f"finished {name} seed {seed}\n{text}", flush=True)
    return text
