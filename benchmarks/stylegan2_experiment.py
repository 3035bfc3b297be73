"""Does the StyleGAN2 path benefit? The few-shot StyleGAN2 recipe, scaled down to 2 CPU
cores, on 100 faces: no augmentation vs DiffAugment.

    nice -n 10 python benchmarks/stylegan2_experiment.py [--seeds 0,1,2] [--width 256]
        [--runs runs/stylegan2] [--out benchmarks/results/stylegan2]

The paper's largest gains are with StyleGAN2 (CIFAR-10 10%: FID 36.02 -> 14.50, and the
100-shot sets without pre-training). This trains `--preset=stylegan2_fewshot` (the
authors' DiffAugment-stylegan2/run_low_shot.py: non-saturating loss, R1 with gamma 10 on
the un-augmented reals every D step, Adam 0.002 with betas (0, 0.99), batch 16, x-flips,
policy `color,translation,cutout`) on the regime experiment's data and budget (100 Noto
faces, 69 held out, 2,000 steps x batch 16 = 32 kimg) and changes only what cannot run on
2 cores, by flags:

- `--resolution=32`: 32 px instead of 256 (the faces are 32 px);
- `--width=256`: StyleGAN2's fmap_base 256 instead of 16384, so 64 / 32 / 16 / 8
  feature maps at 4 / 8 / 16 / 32 px (about 100 images/s on 2 cores; width 512 runs at
  a third of that);
- the EMA half-life scaled with the length: the recipe's 10 kimg of its 300 kimg is
  1.07 kimg of 32 (decay 0.5 ** (16 / 1067), started after one half-life).

R1, the loss, the optimiser and the batch are the recipe's. Settings: `none`
(`--policy=`) and `diffaugment` (the recipe's policy); seeds 0, 1, 2; the comparison,
its records and its significance marks as in `comparison.py` (the runs' records go to
`<out>/records/`, the table to `results.md`, curves and the first seed's samples beside it).
"""

import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from comparison import train_all  # noqa: E402
from regime_experiment import REGIME, add_regime_arguments  # noqa: E402

RECIPE = {"preset": "stylegan2_fewshot", "kimg": 300, "ema_half_life_kimg": 10, "batch": 16}
BASELINE = "none"


def scaled_flags(steps, width):
    """train.py flags of the few-shot recipe scaled to `steps` x batch 16 at 32 px and
    `width` (see the module docstring)."""
    kimg = steps * RECIPE["batch"] / 1000
    half_life = RECIPE["ema_half_life_kimg"] * kimg / RECIPE["kimg"] * 1000  # images
    return [
        "--dataset=emoji_faces",
        "--resolution=32",
        f"--width={width}",
        f"--ema_decay={0.5 ** (RECIPE['batch'] / half_life):.6f}",
        f"--ema_start_step={math.ceil(half_life / RECIPE['batch'])}",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_regime_arguments(parser, "stylegan2", seeds_help="comma-separated seeds")
    parser.set_defaults(width=256)
    args = parser.parse_args(argv)
    flags = [*REGIME["flags"], *scaled_flags(args.steps, args.width)]
    compared = {
        BASELINE: ("none", [*flags, "--policy="]),
        "diffaugment (color,translation,cutout)": ("diffaugment", flags),
    }
    caption = (
        f"StyleGAN2 few-shot recipe at 32 px, width (fmap_base) {args.width}, {args.steps} "
        "steps x batch 16, R1 gamma 10 on the reals; 100 training faces + 69 held out."
    )
    train_all(compared, BASELINE, args, caption, preset=RECIPE["preset"])


if __name__ == "__main__":
    main()
