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

Each difference from DiffAugment alone is marked as `comparison.py` says (beyond the
noise floor and 2 standard errors of the seed means). Runs are trained in the order
DiffAugment / start 1000 per seed, then start 100 per seed; each finished run is kept as
a record in `<out>/records/`, and `results.md`, the curves (`fid.png`, `d_gap.png`,
`logits.png`: D's mean real - fake logit, `lecam.png`: the logged penalty without its
weight) and `samples_<setting>.png` (first seed) in --out are rebuilt after each run, so
an interruption loses at most the run in progress.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ablation import SETTINGS  # noqa: E402
from comparison import train_all  # noqa: E402
from regime_experiment import REGIME, add_regime_arguments  # noqa: E402

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
    names = list(COMPARED)[: args.settings]
    compared = {
        name: (prefix, [*REGIME["flags"], f"--width={args.width}", *flags])
        for name, (prefix, flags) in COMPARED.items()
        if name in names
    }
    caption = (
        f"{args.steps} steps x batch 16 (BigGAN width {args.width}), 100 training faces + 69 "
        "held out. LeCam: weight 0.3, decay 0.9, anchors from the step given."
    )
    train_all(compared, BASELINE, args, caption)


if __name__ == "__main__":
    main()
