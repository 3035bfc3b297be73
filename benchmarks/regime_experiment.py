"""DiffAugment where it matters: a discriminator that memorises 100 emoji faces.

    nice -n 10 python benchmarks/regime_experiment.py [--seeds 0,1,2] [--long]
        [--runs runs/regime] [--out benchmarks/results/regime]

DiffAugment fixes a discriminator that memorises its training set. This experiment puts
the demo's BigGAN (32 px, --width) in that regime and measures the effect there:

1. **Regime** (`REGIME`): 100 of the shipped Noto faces, the other 69 held out for D's
   overfitting signal (sign accuracy on training minus held-out reals, from
   `OverfittingMonitor`), trained long enough that the baseline's gap rises and stays
   >= `MEMORISED` while its metrics worsen from their best.
2. **Effect**: the same budget and seeds for no augmentation, DiffAugment
   `translation,cutout` and `color,translation,cutout`, and the paper's ablations
   `reals_only` and `discriminator_only`. FID, KID and precision/recall are computed by
   train.py on the offline emoji extractor (`--feature_extractor=emoji`, trained on
   Twemoji, so not Inception numbers) with 100 generated images against the 100 training
   faces; SWD on pixels.
3. **Data amount** (`DATA_CURVE`): none vs DiffAugment `translation,cutout` on 100 /
   300 / 1,511 images of every Noto emoji (npm once; 400 held out), FID and SWD of 400
   generated images against those 400 held-out images. The largest size is the row
   where DiffAugment is not expected to help.

Each difference from "none" is marked significant when it exceeds the measured noise
floor (`keras_models.metrics.noise`, `benchmarks/results/metric_noise.json`; the floor at
the largest measured set size <= the one used, which over-states the noise) and twice
the standard error of the difference over seeds. Writes into --out: `results.md`
(tables), `d_accuracy.png` (the paper's figure: D's sign accuracy on training and
held-out reals over training), `fid.png`, `swd.png`, `d_gap.png` (curves),
`data_amount.png` and `samples_<setting>.png` (final grids, first seed). Finished runs
under --runs are reused, so seeds can be added one command at a time.
"""

import argparse
import math
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ablation import ROOT, SETTINGS, mean_std, plot, run_demo, samples_of  # noqa: E402

MEMORISED = 0.3  # train - held-out sign accuracy of a discriminator that memorises
METRIC_FLAGS = [
    "--metrics=fid,kid,pr",
    "--feature_extractor=emoji",
    "--num_eval_images=100",
    "--num_fid_images=100",
]
REGIME = {"steps": 2000, "flags": ["--num_images=100", "--holdout=69", *METRIC_FLAGS]}
FACES_FLOORS = "noto faces (169)"
DATA_CURVE = {"sizes": (100, 300, None), "holdout": 400}
ALL_FLOORS = "noto all (1911)"
CURVE_SETTINGS = ("none", "diffaugment (translation,cutout)")


def slug(name):
    """A run-directory name for a setting: "diffaugment (a,b)" -> "diffaugment-a-b"."""
    return name.replace(" (", "-").replace(",", "-").rstrip(")")


def memorised_from(steps, gaps, threshold=MEMORISED):
    """The first evaluation step from which D's accuracy gap stays >= `threshold` until
    the end of training, or None when it does not end there."""
    onset = None
    for step, gap in zip(steps, gaps, strict=True):
        if gap >= threshold:
            onset = step if onset is None else onset
        else:
            onset = None
    return onset


def floor_at(floors, data, metric, num):
    """The `NoiseFloor` of `metric` on `data` at the largest measured size <= `num`
    (smaller sets are noisier: the result over-states the noise at `num`)."""
    sizes = [n for d, m, n in floors if d == data and m == metric and n <= num]
    if not sizes:
        raise ValueError(
            f"Expected a noise floor of {metric!r} on {data!r} at <= {num} images. "
            f"Received floors at: {sorted(n for d, m, n in floors if d == data and m == metric)}."
        )
    return floors[(data, metric, max(sizes))]


def difference(baseline, values, floor, z=2.0):
    """`mean(values) - mean(baseline)` and whether it is significant: beyond the floor's
    `NoiseFloor.significant` and beyond `z` standard errors of the difference of the two
    seed means (a single seed per side gives no seed spread: the floor alone decides)."""
    baseline, values = np.asarray(baseline, float), np.asarray(values, float)
    diff = float(values.mean() - baseline.mean())
    spread = 0.0
    if len(baseline) > 1 and len(values) > 1:
        spread = math.sqrt(baseline.var(ddof=1) / len(baseline) + values.var(ddof=1) / len(values))
    return diff, floor.significant(diff, z) and abs(diff) > z * spread


def marked(baseline, values, floor, digits=1):
    """A table cell: the signed difference from the baseline, in bold when significant."""
    diff, significant = difference(baseline, values, floor)
    cell = f"{diff:+.{digits}f}"
    return f"**{cell}**" if significant else cell


def history(report, key, metric):
    """(steps, values) of `metric` in report.json's `key` list ("evaluations" or
    "overfitting")."""
    records = report[key]
    return np.array([r["step"] for r in records]), np.array([r[metric] for r in records])


def curve(reports, key, metric):
    """(kimg, mean, std) over seeds of a metric's history, for `ablation.plot`."""
    steps = history(reports[0], key, metric)[0]
    values = np.array([history(r, key, metric)[1] for r in reports])
    kimg = steps * reports[0]["config"]["batch_size"] / 1000
    return kimg, values.mean(0), values.std(0)


def regime_runs(args, seeds):
    """Trains (or reuses) every setting in the regime; returns {name: [report]}."""
    results = {}
    for name, flags in SETTINGS.items():
        flags = [*REGIME["flags"], f"--width={args.width}", *flags]
        results[name] = [
            run_demo(
                os.path.join(args.runs, f"{slug(name)}-s{seed}"),
                args.steps,
                seed,
                flags,
                evaluations=args.steps // 250,
            )
            for seed in seeds
        ]
        first = os.path.join(args.runs, f"{slug(name)}-s{seeds[0]}")
        shutil.copy(
            os.path.join(first, "samples", f"samples_{args.steps:07d}.png"),
            os.path.join(args.out, f"samples_{slug(name)}.png"),
        )
    return results


def regime_table(results, floors, seeds, args):
    """The markdown lines of the regime's table."""
    none = results["none"]
    metrics = ("fid", "kid", "precision", "recall", "swd")
    final = {
        name: {m: [history(r, "evaluations", m)[1][-1] for r in reports] for m in metrics}
        for name, reports in results.items()
    }
    lines = [
        f"{args.steps} steps x batch {none[0]['config']['batch_size']} (BigGAN width "
        f"{args.width}), 100 training faces + 69 held out, seeds {seeds}. FID / KID / "
        "precision / recall on the offline emoji extractor (not Inception), 100 generated vs "
        "the 100 training faces; SWD x 1e3. Final values, mean ± std over seeds; Δ: "
        "difference from none, **bold** when beyond both the noise floor (N = "
        f"{floor_at(floors, FACES_FLOORS, 'fid', 100).num}, real vs real) and 2 standard "
        "errors over seeds.\n",
        "| setting | FID | Δ FID | best FID | KID | Δ KID | precision | recall | Δ recall "
        "| SWD | Δ SWD | D gap (train - held-out) | gap >= 0.3 from step |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, reports in results.items():
        cells = final[name]
        delta = {
            m: "—"
            if name == "none"
            else marked(
                final["none"][m],
                cells[m],
                floor_at(floors, FACES_FLOORS, m, 100),
                3 if m in ("kid", "recall") else 1,
            )
            for m in ("fid", "kid", "recall", "swd")
        }
        best = [history(r, "evaluations", "fid")[1].min() for r in reports]
        gaps = [history(r, "overfitting", "accuracy_gap") for r in reports]
        onsets = [memorised_from(s, g) for s, g in gaps]
        onset = ", ".join("never" if o is None else str(o) for o in onsets)
        lines.append(
            f"| {name} | {mean_std(cells['fid'])} | {delta['fid']} | {mean_std(best)} "
            f"| {mean_std(cells['kid'], 3)} | {delta['kid']} "
            f"| {mean_std(cells['precision'], 2)} | {mean_std(cells['recall'], 2)} "
            f"| {delta['recall']} | {mean_std(cells['swd'])} | {delta['swd']} "
            f"| {mean_std([g[-1] for _, g in gaps], 2)} | {onset} |"
        )
    return lines


def regime_figures(results, out):
    accuracy = {}
    for name in ("none", "diffaugment (color,translation,cutout)"):  # all: d_gap.png
        reports = results[name]
        accuracy[f"{name}: training reals"] = curve(reports, "overfitting", "d_accuracy_train")
        accuracy[f"{name}: held-out reals"] = curve(reports, "overfitting", "d_accuracy_heldout")
    plot(accuracy, "D sign accuracy (logit > 0)", os.path.join(out, "d_accuracy.png"))
    for metric, label in (("fid", "FID (emoji extractor, 100 vs 100)"), ("swd", "SWD x 1e3")):
        curves = {n: curve(r, "evaluations", metric) for n, r in results.items()}
        plot(curves, label, os.path.join(out, f"{metric}.png"))
    gaps = {n: curve(r, "overfitting", "accuracy_gap") for n, r in results.items()}
    plot(gaps, "D sign accuracy: train - held-out", os.path.join(out, "d_gap.png"))


def heldout_images(folder, seed, holdout):
    """The `holdout` images train.py holds out of `folder` with `seed` (float, [-1, 1])."""
    from keras_models import data

    training = data.load_training_data(folder, 32, batch_size=16, seed=seed, holdout=holdout)
    return training.heldout[0]


def data_curve(args, seeds, floors):
    """Trains (or reuses) none vs DiffAugment at each data amount; returns the markdown
    lines of its table and writes data_amount.png."""
    import emoji_build

    from keras_models.metrics import EmojiFeatures, frechet_distance, sliced_wasserstein

    folder = os.path.join(ROOT, "runs", "emoji_all")  # the cache of metric_noise.py
    if not os.path.exists(os.path.join(folder, "manifest.json")):
        emoji_build.build(folder, "all")
    holdout = DATA_CURVE["holdout"]
    extractor = EmojiFeatures()
    rows, points = [], {name: [] for name in CURVE_SETTINGS}
    reference = {seed: heldout_images(folder, seed, holdout) for seed in seeds}
    features = {seed: extractor(images)[0] for seed, images in reference.items()}
    for size in args.sizes:
        values = {}
        for name in CURVE_SETTINGS:
            amount = [f"--num_images={size}"] if size else []
            flags = [
                f"--dataset={folder}",
                f"--holdout={holdout}",
                f"--width={args.width}",
                *amount,
                *SETTINGS[name],
            ]
            fid, swd, gap = [], [], []
            for seed in seeds:
                run_dir = os.path.join(args.runs, f"data{size or 'all'}-{slug(name)}-s{seed}")
                report = run_demo(run_dir, args.steps, seed, flags, evaluations=4)
                gap.append(history(report, "overfitting", "accuracy_gap")[1][-1])
                fakes = samples_of(run_dir, num=holdout)
                fid.append(frechet_distance(features[seed], extractor(fakes)[0]))
                swd.append(sliced_wasserstein(reference[seed], fakes, seed=seed))
            values[name] = (fid, swd, gap)
            points[name].append((size or 1911 - holdout, np.mean(fid), np.std(fid)))
        base, aug = values[CURVE_SETTINGS[0]], values[CURVE_SETTINGS[1]]
        rows.append(
            f"| {size or 1911 - holdout} | {mean_std(base[0])} | {mean_std(aug[0])} "
            f"| {marked(base[0], aug[0], floor_at(floors, ALL_FLOORS, 'fid', holdout))} "
            f"| {mean_std(base[1])} | {mean_std(aug[1])} "
            f"| {marked(base[1], aug[1], floor_at(floors, ALL_FLOORS, 'swd', holdout))} "
            f"| {mean_std(base[2], 2)} | {mean_std(aug[2], 2)} |"
        )
    curves = {n: tuple(np.array(v).T) for n, v in points.items()}
    plot(
        curves,
        f"FID vs {holdout} held-out emoji",
        os.path.join(args.out, "data_amount.png"),
        xlabel="training images",
    )
    return [
        f"Data amount: every Noto emoji (1,911; {holdout} held out), {args.steps} steps, "
        f"width {args.width}, seeds {seeds}. FID (emoji extractor) and SWD x 1e3 of "
        f"{holdout} samples of the EMA generator against the {holdout} held-out images "
        f"(floor at N = {floor_at(floors, ALL_FLOORS, 'fid', holdout).num}).\n",
        "| training images | FID none | FID DiffAugment (t,c) | Δ FID | SWD none "
        "| SWD DiffAugment (t,c) | Δ SWD | D gap none | D gap DiffAugment (t,c) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def add_regime_arguments(parser, name, seeds_help):
    """The flags of an experiment on the regime's setting: its length, width and seeds,
    and its runs, results and noise-floor paths (`name`: the runs' and results' folder)."""
    parser.add_argument("--steps", type=int, default=REGIME["steps"])
    parser.add_argument("--width", type=int, default=8, help="BigGAN width (G and D)")
    parser.add_argument("--seeds", default="0,1,2", help=seeds_help)
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", name))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", name))
    parser.add_argument(
        "--floors", default=os.path.join(ROOT, "benchmarks", "results", "metric_noise.json")
    )


def main(argv=None):
    from keras_models.metrics import load_noise_floors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_regime_arguments(parser, "regime", seeds_help="comma-separated regime seeds")
    parser.add_argument("--curve_seeds", default="0", help="comma-separated data-curve seeds")
    parser.add_argument(
        "--long",
        action="store_true",
        help="also 50 and 1,000 images, and seeds 0,1,2 on the data curve",
    )
    parser.add_argument("--skip_curve", action="store_true", help="only the regime table")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    curve_seeds = [int(s) for s in args.curve_seeds.split(",")]
    args.sizes = DATA_CURVE["sizes"]
    if args.long:
        args.sizes, curve_seeds = (50, 100, 300, 1000, None), [0, 1, 2]
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.runs, exist_ok=True)
    floors = load_noise_floors(args.floors)

    results = regime_runs(args, seeds)
    lines = regime_table(results, floors, seeds, args)
    regime_figures(results, args.out)
    if not args.skip_curve:
        lines += ["", *data_curve(args, curve_seeds, floors)]
    table = "\n".join(lines)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
