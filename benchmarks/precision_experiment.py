"""Does mixed_bfloat16 train as well as float32? The regime experiment in both precisions.

    nice -n 10 python benchmarks/precision_experiment.py [--seeds 0,1,2]
        [--runs runs/precision] [--out benchmarks/results/precision]

`--mixed_precision=auto` trains in `mixed_bfloat16` on CPUs with native bfloat16
arithmetic (`keras_models.devices.resolve_precision`), because its step is about 1.7x
faster there. That is a default only if it trains as well as the authors' float32. This
runs `regime_experiment.py`'s setting (the demo's BigGAN on 100 Noto faces, 69 held out,
2,000 steps, FID / KID / precision / recall on the offline emoji extractor, SWD on
pixels) for no augmentation and DiffAugment `color,translation,cutout`, in float32 and
in mixed_bfloat16, over the same seeds. A bfloat16 - float32 difference is marked
significant (**bold**) when it is beyond both the measured noise floor and 2 standard
errors over seeds, as in the regime experiment. Writes `results.md` into --out; finished
runs under --runs are reused.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ablation import SETTINGS, mean_std, run_demo  # noqa: E402
from regime_experiment import (  # noqa: E402
    FACES_FLOORS,
    REGIME,
    add_regime_arguments,
    floor_at,
    history,
    marked,
    slug,
)

from keras_models.metrics import load_noise_floors  # noqa: E402

PRECISIONS = ("float32", "mixed_bfloat16")
COMPARED = ("none", "diffaugment (color,translation,cutout)")
METRICS = (("fid", 1), ("kid", 3), ("precision", 2), ("recall", 2), ("swd", 1))


def final_metrics(args, name, precision, seeds):
    """{metric: [final value per seed]} of one setting in one precision."""
    flags = [*REGIME["flags"], f"--width={args.width}", *SETTINGS[name]]
    reports = [
        run_demo(
            os.path.join(args.runs, f"{slug(name)}-{precision}-s{seed}"),
            args.steps,
            seed,
            flags,
            evaluations=args.steps // 250,
            precision=precision,
        )
        for seed in seeds
    ]
    return {m: [history(r, "evaluations", m)[1][-1] for r in reports] for m, _ in METRICS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_regime_arguments(parser, "precision", seeds_help="comma-separated seeds")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    floors = load_noise_floors(args.floors)
    os.makedirs(args.out, exist_ok=True)

    lines = [
        f"{args.steps} steps x batch 16 (BigGAN width {args.width}), 100 training faces + 69 "
        f"held out, seeds {seeds}. Final values, mean ± std over seeds; Δ: mixed_bfloat16 "
        "minus float32, **bold** when beyond both the noise floor (real vs real, N = "
        f"{floor_at(floors, FACES_FLOORS, 'fid', 100).num}) and 2 standard errors over seeds. "
        "FID / KID / precision / recall on the offline emoji extractor (not Inception); "
        "SWD x 1e3.\n",
        "| setting | metric | float32 | mixed_bfloat16 | Δ |",
        "|---|---|---:|---:|---:|",
    ]
    for name in COMPARED:
        runs = {p: final_metrics(args, name, p, seeds) for p in PRECISIONS}
        for metric, digits in METRICS:
            float32, bfloat16 = runs["float32"][metric], runs["mixed_bfloat16"][metric]
            delta = marked(float32, bfloat16, floor_at(floors, FACES_FLOORS, metric, 100), digits)
            lines.append(
                f"| {name} | {metric} | {mean_std(float32, digits)} "
                f"| {mean_std(bfloat16, digits)} | {delta} |"
            )
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
