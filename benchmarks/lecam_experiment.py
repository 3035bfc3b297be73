"""Does LeCam regularisation add to DiffAugment on 100 faces? The regime experiment's
setting with and without `--lecam_weight=0.3`.

    nice -n 10 python benchmarks/lecam_experiment.py [--seeds 0,1,2]
        [--runs runs/lecam] [--out benchmarks/results/lecam]

Tseng et al. (CVPR 2021) add LeCam to DiffAugment's BigGAN-CIFAR scripts
(google/lecam-gan, `--LC 0.3`) and report a lower FID with limited data.
`keras_models.LeCamRegularizer` implements that code; this checks the claim where this
project can: `regime_experiment.py`'s setting (the demo's BigGAN at width 8 on 100 Noto
faces, 69 held out, 2,000 steps x batch 16, FID / KID / precision / recall of 100
samples on the offline emoji extractor, SWD on pixels, D's sign-accuracy gap between
training and held-out reals), DiffAugment `color,translation,cutout` alone against the
same with LeCam (weight 0.3, decay 0.9, the reference's BigGAN-CIFAR values), seeds
0, 1, 2.

The start step. lecam-gan's anchors follow the batch means (decay 0) for its first 1,000
iterations and the penalty is added after them (`ema_losses(start_itr=1000)`): a warm-up
that is well under 1% of a BigGAN-CIFAR run (hundreds of thousands of iterations of 4 D
steps), but half of this 2,000-step run, where the penalty would act on the last 1,000
steps only. Two LeCam settings are run, so that neither choice decides the result alone:

- `start 1000`: the reference's number of iterations (and `--lecam_start_step`'s
  default), the faithful flag set; the baseline's D in this regime starts to memorise
  around steps 1,250-2,000 without augmentation (regime_experiment.py), so the penalty is
  on over the part of the run where overfitting develops;
- `start 100`: the warm-up scaled to this run, ending where the demo's generator EMA
  starts (`ema_start_step=100`), so that the penalty acts over 95% of the run.

Each difference from DiffAugment alone (over the seeds finished in both) is marked
significant (**bold**) when it is beyond both the measured noise floor
(`benchmarks/results/metric_noise.json`, as in the regime experiment) and 2 standard
errors of the difference of the seed means (`regime_experiment.difference`); the D gap
has no measured floor, so only its seed spread decides (and one seed per side is never
marked). Runs are trained in the order DiffAugment / start 1000 per seed, then start 100
per seed; finished runs under --runs are reused, and after each run `results.md`, the
curves (`fid.png`, `d_gap.png`, `logits.png`: D's mean real - fake logit, `lecam.png`:
the logged penalty without its weight) and `samples_<setting>.png` (first seed) in --out
are rewritten with the runs finished so far, so an interruption loses at most the run in
progress.
"""

import argparse
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ablation import SETTINGS, mean_std, plot, run_demo  # noqa: E402
from regime_experiment import (  # noqa: E402
    FACES_FLOORS,
    REGIME,
    add_regime_arguments,
    curve,
    difference,
    floor_at,
    history,
    marked,
)

from keras_models.metrics import load_noise_floors  # noqa: E402

BASELINE = "diffaugment (color,translation,cutout)"
LECAM = ["--lecam_weight=0.3", "--lecam_decay=0.9"]
COMPARED = {  # name: (run-directory prefix, flags)
    BASELINE: ("diffaugment", SETTINGS[BASELINE]),
    "+ lecam 0.3 (start 1000)": (
        "lecam-start1000",
        [*SETTINGS[BASELINE], *LECAM, "--lecam_start_step=1000"],
    ),
    "+ lecam 0.3 (start 100)": (
        "lecam-start100",
        [*SETTINGS[BASELINE], *LECAM, "--lecam_start_step=100"],
    ),
}
PRIMARY = 2  # the first two settings are interleaved by seed, then the others by seed
METRICS = (("fid", 1), ("kid", 3), ("precision", 2), ("recall", 2), ("swd", 1))


def run_order(names, seeds, primary=PRIMARY):
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


def table(finished, floors, args):
    """The markdown lines of the table of the runs in `finished` ({name: {seed: report}})."""
    lines = [
        f"{args.steps} steps x batch 16 (BigGAN width {args.width}), 100 training faces + 69 "
        "held out; FID / KID / precision / recall on the offline emoji extractor (not "
        "Inception), 100 generated vs the 100 training faces; SWD x 1e3; D gap: D's sign "
        "accuracy on training minus held-out reals. Final values, mean ± std over the "
        "seeds finished; Δ: minus DiffAugment alone over the seeds finished in both, "
        "**bold** when beyond both the noise floor (real vs real, N = "
        f"{floor_at(floors, FACES_FLOORS, 'fid', 100).num}) and 2 standard errors over "
        "seeds (D gap: no floor measured, the seed spread alone, >= 2 seeds). LeCam: "
        "weight 0.3, decay 0.9, anchors from the step given.\n",
        "| setting | seeds | FID | Δ FID | KID | Δ KID | precision | Δ precision | recall "
        "| Δ recall | SWD | Δ SWD | D gap | Δ D gap |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = finished.get(BASELINE, {})
    for name, runs in finished.items():
        if not runs:
            continue
        seeds = sorted(runs)
        values = {k: [final_values(runs[s])[k] for s in seeds] for k in ("gap", *dict(METRICS))}
        common = [s for s in seeds if s in base]
        cells = [name, ", ".join(map(str, seeds))]
        for metric, digits in METRICS:
            delta = "—"
            if name != BASELINE and common:
                delta = marked(
                    [final_values(base[s])[metric] for s in common],
                    [final_values(runs[s])[metric] for s in common],
                    floor_at(floors, FACES_FLOORS, metric, 100),
                    digits,
                )
            cells += [mean_std(values[metric], digits), delta]
        delta = "—"
        if name != BASELINE and common:
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_regime_arguments(parser, "lecam", seeds_help="comma-separated seeds")
    parser.add_argument(
        "--settings",
        type=int,
        default=len(COMPARED),
        help="run the first N settings only (2: DiffAugment vs LeCam from step 1000)",
    )
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    floors = load_noise_floors(args.floors)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.runs, exist_ok=True)
    names = list(COMPARED)[: args.settings]

    finished = {name: {} for name in names}
    for name, seed in run_order(names, seeds):
        prefix, setting = COMPARED[name]
        run_dir = os.path.join(args.runs, f"{prefix}-s{seed}")
        flags = [*REGIME["flags"], f"--width={args.width}", *setting]
        report = run_demo(run_dir, args.steps, seed, flags, evaluations=args.steps // 250)
        finished[name][seed] = report
        if seed == seeds[0]:
            shutil.copy(
                os.path.join(run_dir, "samples", f"samples_{args.steps:07d}.png"),
                os.path.join(args.out, f"samples_{prefix}.png"),
            )
        text = "\n".join(table(finished, floors, args)) + "\n"
        with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
            f.write(text)
        figures(finished, args.out)
        print(f"finished {name} seed {seed}\n{text}", flush=True)


if __name__ == "__main__":
    main()
