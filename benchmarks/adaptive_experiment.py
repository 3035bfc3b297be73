"""Adaptive DiffAugment strength along the data-amount curve: none, fixed p = 1 and ADA's
adaptive p on 100, 300 and 1,511 images.

    nice -n 10 python benchmarks/adaptive_experiment.py [--seeds 0,1,2]
        [--sizes 100,300,1511] [--runs runs/adaptive] [--out benchmarks/results/adaptive]

Fixed DiffAugment helps where D memorises (100 images) and hurts where it does not
(1,511), so a single fixed p is wrong at one end (`regime_experiment.py`'s data-amount
curve). ADA's controller (`keras_models.AdaptiveStrength`, `--augment_p=adaptive`)
promises one setting that is right at every size. This trains the regime experiment's
data-amount setting (the demo's BigGAN at width 8, 32 px, 2,000 steps x batch 16, every
Noto emoji with 400 held out; npm builds the set once) with

- `none`: no augmentation;
- `fixed p = 1`: DiffAugment `color,translation,cutout`, the paper's fixed p;
- `adaptive p`: the same policy with p steered by r_t = E[sign(D(augmented reals))]
  every 4 steps toward `--ada_target`, at a speed of `--ada_kimg` (4: p can go from 0
  to 1 in 250 of the 2,000 steps).

and scores each run by FID (offline emoji extractor, not Inception) and SWD of 400
samples of the EMA generator against the 400 held-out images, and D's sign-accuracy gap
between training and held-out reals. A difference counts (**bold**) when it is beyond
both the measured noise floor (`benchmarks/results/metric_noise.json` at N = 256 <= 400)
and 2 standard errors of the difference of the seed means (`regime_experiment.marked`).

Every finished run leaves `records/<size>-<setting>-s<seed>.json` in --out (its command,
scores, D's gap and r_t over training, and the controller's p and r_t), and the table
(`results.md`) and figures (`fid.png`: FID against data amount; `strength-<size>.png`:
r_t and p over training, each seed; `r_t.png`: r_t of the runs without a controller,
the signal the controller acts on) are rebuilt from those records after each run. A
record made by the same command is never trained again, so the experiment adds up across
interruptions; run directories under --runs can be deleted once their record exists.
Runs go seed by seed, all sizes and settings per seed, so that an interruption leaves
whole seeds.
"""

import argparse
import functools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import emoji_build  # noqa: E402
from ablation import ROOT, demo_command, mean_std, plot, recorded, run_demo, samples_of  # noqa: E402
from regime_experiment import (  # noqa: E402
    ALL_FLOORS,
    DATA_CURVE,
    add_regime_arguments,
    difference,
    floor_at,
    heldout_images,
    history,
    marked,
)

ADA = {"target": 0.1, "kimg": 4}  # demo_adaptive's (keras_models/recipes.py says why)
POLICY = "--policy=color,translation,cutout"
SETTINGS = {  # name: (record file name, flags)
    "none": ("none", ["--policy="]),
    "fixed p = 1": ("fixed", [POLICY]),
    "adaptive p": ("adaptive", [POLICY, "--augment_p=adaptive"]),
}
EVALUATIONS = 8  # checkpoints, D-gap measurements and fit-log epochs per run
SCORES = (("fid", 1), ("swd", 1), ("gap", 2))  # (record key, digits)


def adaptive_flags(target, kimg):
    return [f"--ada_target={target:g}", f"--ada_kimg={kimg:g}"]


def measure(run_dir, report, reference, extractor, seed):
    """The record of a finished run: its scores against the held-out images (`reference`,
    features by `extractor`) and the curves of its overfitting signals."""
    from keras_models.metrics import frechet_distance, sliced_wasserstein
    from keras_models.report import strength_history

    fakes = samples_of(run_dir, num=len(reference))
    steps, gaps = history(report, "overfitting", "accuracy_gap")
    every = report["config"]["ckpt_every"]
    accuracy = np.array(report["history"]["d_real_accuracy"])
    return {
        "fid": frechet_distance(extractor(reference)[0], extractor(fakes)[0]),
        "swd": sliced_wasserstein(reference, fakes, seed=seed),
        "gap": float(gaps[-1]),
        "gap_curve": [steps.tolist(), gaps.tolist()],
        # mean sign of D's logits on the reals of each epoch's D steps: r_t, per epoch
        "r_t_curve": [
            list(range(every, every * (len(accuracy) + 1), every)),
            (2 * accuracy - 1).tolist(),
        ],
        "strength": strength_history(os.path.join(run_dir, "metrics.jsonl")),
    }


def train_and_measure(run_dir, steps, seed, flags, folder):
    """Trains (or reuses) a run and returns its record (`measure`)."""
    from keras_models.metrics import EmojiFeatures

    report = run_demo(run_dir, steps, seed, flags, EVALUATIONS)
    reference = heldout_images(folder, seed, DATA_CURVE["holdout"])
    return measure(run_dir, report, reference, EmojiFeatures(), seed)


def late_mean(record, key):
    """Mean of the second half of training of `r_t` (`"r_t_curve"`) or `augment_p`."""
    if key == "r_t_curve":
        steps, values = record[key]
    else:
        steps = [r["step"] for r in record["strength"]]
        values = [r[key] for r in record["strength"]]
    steps, values = np.asarray(steps), np.asarray(values, float)
    return float(values[steps > steps.max() / 2].mean())


def table(records, floors, args):
    """Markdown lines of the table of `records` ({size: {setting: {seed: record}}})."""
    floor = {m: floor_at(floors, ALL_FLOORS, m, DATA_CURVE["holdout"]) for m in ("fid", "swd")}
    lines = [
        f"{args.steps} steps x batch 16 (BigGAN width {args.width}), every Noto emoji with "
        f"{DATA_CURVE['holdout']} held out; FID (emoji extractor) and SWD x 1e3 of "
        f"{DATA_CURVE['holdout']} EMA samples against the held-out images; D gap: D's sign "
        "accuracy on training minus held-out reals at the end; r_t: mean sign of D's logits "
        "on its (augmented) training reals, mean over the second half of training; p: the "
        f"adaptive probability (target {args.ada_target:g}, {args.ada_kimg:g} kimg from 0 "
        "to 1), mean over the second half. Mean ± std over the seeds finished; Δ: minus "
        "`none` over the seeds finished in both, **bold** when beyond both the noise floor "
        f"(N = {floor['fid'].num}) and 2 standard errors of the seed means.\n",
        "| images | setting | seeds | FID | Δ FID | SWD | Δ SWD | D gap | r_t | p |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, by_setting in records.items():
        base = by_setting.get("none", {})
        for name, runs in by_setting.items():
            if not runs:
                continue
            seeds = sorted(runs)
            common = [s for s in seeds if s in base]
            cells = [str(size), name, ", ".join(map(str, seeds))]
            for metric, digits in SCORES:
                values = [runs[s][metric] for s in seeds]
                cells.append(mean_std(values, digits))
                if metric in floor:
                    delta = "—"
                    if name != "none" and common:
                        delta = marked(
                            [base[s][metric] for s in common],
                            [runs[s][metric] for s in common],
                            floor[metric],
                            digits,
                        )
                    cells.append(delta)
            cells.append(mean_std([late_mean(runs[s], "r_t_curve") for s in seeds], 2))
            strength = [late_mean(runs[s], "augment_p") for s in seeds if runs[s]["strength"]]
            cells.append(mean_std(strength, 2) if strength else ("1" if "fixed" in name else "—"))
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *verdicts(records, floor["fid"])]
    return lines


def verdicts(records, floor):
    """Markdown lines: the adaptive p's FID against the better and the worse fixed
    setting (none, p = 1) at each size, over the seeds finished in all three."""
    lines = []
    for size, by_setting in records.items():
        runs = [by_setting.get(name, {}) for name in SETTINGS]
        seeds = sorted(set.intersection(*(set(r) for r in runs)))
        if not seeds:
            continue
        none, fixed, adaptive = ([r[s]["fid"] for s in seeds] for r in runs)
        better, worse = (none, fixed) if np.mean(none) <= np.mean(fixed) else (fixed, none)
        names = ("none", "p = 1") if better is none else ("p = 1", "none")
        text = []
        for label, other in zip(names, (better, worse), strict=True):
            diff, significant = difference(other, adaptive, floor)
            verdict = "beyond floor and seeds" if significant else "within floor or seeds"
            text.append(f"{diff:+.1f} vs {label} ({verdict})")
        lines.append(
            f"- {size} images, seeds {seeds}: adaptive FID {' ; '.join(text)}; "
            f"the better fixed setting is {names[0]}."
        )
    return lines


def figures(records, out, target):
    from keras_models.report import write_strength_figure

    sizes = list(records)
    fid = {}
    for name in SETTINGS:
        points = [
            (size, np.mean(v), np.std(v))
            for size in sizes
            if (v := [r["fid"] for r in records[size].get(name, {}).values()])
        ]
        if points:
            fid[name] = tuple(np.array(points).T)
    plot(fid, "FID vs 400 held-out emoji", os.path.join(out, "fid.png"), xlabel="training images")
    r_t = {}
    for size in sizes:
        for name in ("none", "fixed p = 1"):
            runs = list(records[size].get(name, {}).values())
            if runs:
                curves = np.array([r["r_t_curve"][1] for r in runs])
                steps = np.array(runs[0]["r_t_curve"][0]) * 16 / 1000
                r_t[f"{size} images, {name}"] = (steps, curves.mean(0), curves.std(0))
    plot(r_t, "r_t = mean sign of D(reals), per epoch", os.path.join(out, "r_t.png"))
    for size in sizes:
        runs = records[size].get("adaptive p", {})
        if runs:
            write_strength_figure(
                {f"seed {seed}": r["strength"] for seed, r in sorted(runs.items())},
                target,
                os.path.join(out, f"strength-{size}.png"),
                f"Adaptive p on {size} images",
            )


def main(argv=None):
    from keras_models.metrics import load_noise_floors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_regime_arguments(parser, "adaptive", seeds_help="comma-separated seeds")
    parser.add_argument("--sizes", default="100,300,1511", help="training-set sizes")
    parser.add_argument("--settings", default=",".join(SETTINGS), help="settings to run")
    parser.add_argument("--ada_target", type=float, default=ADA["target"])
    parser.add_argument("--ada_kimg", type=float, default=ADA["kimg"])
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    names = args.settings.split(",")
    floors = load_noise_floors(args.floors)
    folder = os.path.join(ROOT, "runs", "emoji_all")  # the cache of metric_noise.py
    if not os.path.exists(os.path.join(folder, "manifest.json")):
        emoji_build.build(folder, "all")
    holdout = DATA_CURVE["holdout"]

    records = {size: {name: {} for name in SETTINGS} for size in sizes}
    todo = [(seed, size, name) for seed in seeds for size in sizes for name in SETTINGS]
    for seed, size, name in todo:
        file_name, setting = SETTINGS[name]
        flags = [
            f"--dataset={folder}",
            f"--holdout={holdout}",
            f"--width={args.width}",
            *([f"--num_images={size}"] if size < 1911 - holdout else []),
            *setting,
            *(adaptive_flags(args.ada_target, args.ada_kimg) if "adaptive" in name else []),
        ]
        run_dir = os.path.join(args.runs, f"{size}-{file_name}-s{seed}")
        path = os.path.join(args.out, "records", f"{size}-{file_name}-s{seed}.json")
        command = demo_command(run_dir, args.steps, seed, flags, EVALUATIONS)

        train = functools.partial(train_and_measure, run_dir, args.steps, seed, flags, folder)
        record = recorded(path, command, train if name in names else None)
        if record is None:
            continue
        records[size][name][seed] = record
        text = "\n".join(table(records, floors, args)) + "\n"
        with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
            f.write(text)
        figures(records, args.out, args.ada_target)
        print(f"finished {size} images, {name}, seed {seed}", flush=True)
    print(text)


if __name__ == "__main__":
    main()
