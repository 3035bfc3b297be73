"""100-shot emoji faces with DiffAugment: from scratch vs fine-tuned vs fine-tuned + FreezeD.

    python benchmarks/finetune_experiment.py [--pretrain_steps 3000] [--steps 1000]
        [--freeze_d 2] [--seeds 0] [--runs runs/finetune] [--out benchmarks/results/finetune]

The paper's few-shot table (100-shot Obama, Grumpy cat, Panda) compares DiffAugment from
scratch with transfer learning plus DiffAugment (TransferGAN: fine-tune a GAN pre-trained
on another domain; FreezeD: the same with D's first layers frozen). At CPU scale:

1. the source domain is the emoji set without its faces: `emoji_build.py` builds the
   1,911 Noto emoji ("all", npm needed once), of which the 169 "Smileys & Emotion" faces
   are removed (1,742 images);
2. the demo's BigGAN (width 8, 32 px, DiffAugment color,translation,cutout) is pre-trained
   on it for --pretrain_steps;
3. on 100 of the shipped faces (24 others held out for D's overfitting signal), with the
   same seeds, steps and DiffAugment (pre-training uses seed 0): "scratch",
   "fine-tuned" (`--init_from` the pre-trained run) and "FreezeD" (`--init_from` and
   `--freeze_d`).

Writes into --out: `results.md` (SWD on the 100 faces, best SWD, D's train - held-out
accuracy gap), `swd.png` and `d_gap.png` (curves), `samples_<setting>.png` (final grids)
and `nearest_<setting>.png` (samples beside their nearest training faces). Run
directories under --runs are reused when finished.
"""

import argparse
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import emoji_build  # noqa: E402
from ablation import ROOT, mean_std, run_demo, write_results  # noqa: E402

FACES_FOLDER = emoji_build.slug(emoji_build.FACES_CATEGORY)
TARGET = ["--dataset=emoji_faces", "--num_images=100"]


def source_domain(folder):
    """The emoji set without the faces in `folder` (built once, with npm)."""
    if not os.path.isdir(folder):
        emoji_build.build(folder, "all")
        shutil.rmtree(os.path.join(folder, FACES_FOLDER))
    return folder


def settings(pretrained, freeze_d):
    return {
        "scratch": TARGET,
        "fine-tuned": [*TARGET, f"--init_from={pretrained}"],
        f"FreezeD ({freeze_d} blocks)": [
            *TARGET,
            f"--init_from={pretrained}",
            f"--freeze_d={freeze_d}",
        ],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrain_steps", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=1000, help="steps on the 100 faces")
    parser.add_argument("--freeze_d", type=int, default=2, help="D blocks FreezeD freezes")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds of the face runs")
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "finetune"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "finetune"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)

    data = source_domain(os.path.join(args.runs, "emoji_without_faces"))
    pretrained = os.path.join(args.runs, "pretrain")
    pre = run_demo(pretrained, args.pretrain_steps, 0, [f"--dataset={data}"])
    rows, swd_curves, gap_curves = [], {}, {}
    for name, flags in settings(pretrained, args.freeze_d).items():
        slug = name.split()[0].lower()
        run_dirs = [os.path.join(args.runs, f"{slug}-s{seed}") for seed in seeds]
        reports = [
            run_demo(run_dir, args.steps, seed, flags)
            for run_dir, seed in zip(run_dirs, seeds, strict=True)
        ]
        swd = np.array([[e["swd"] for e in r["evaluations"]] for r in reports])
        gap = np.array([[e["accuracy_gap"] for e in r["overfitting"]] for r in reports])
        kimg = np.array([e["step"] for e in reports[0]["evaluations"]])
        kimg = kimg * reports[0]["config"]["batch_size"] / 1000
        swd_curves[name] = (kimg, swd.mean(0), swd.std(0))
        gap_curves[name] = (kimg, gap.mean(0), gap.std(0))
        rows.append((name, swd[:, -1], swd.min(1), gap[:, -1]))
        shutil.copy(
            os.path.join(run_dirs[0], "samples", f"samples_{args.steps:07d}.png"),
            os.path.join(args.out, f"samples_{slug}.png"),
        )
        shutil.copy(
            os.path.join(run_dirs[0], "nearest.png"),
            os.path.join(args.out, f"nearest_{slug}.png"),
        )

    batch = pre["config"]["batch_size"]
    images = sum(n.endswith(".png") for _, _, names in os.walk(data) for n in names)
    lines = [
        f"Pre-training: {args.pretrain_steps} steps x batch {batch} on {images} images of the "
        f"emoji set without faces (final SWD {pre['evaluations'][-1]['swd']:.1f}). Then "
        f"{args.steps} steps x batch {batch} on 100 faces, seeds {seeds}; SWD x 1e3 against "
        "the 100 faces (lower is better)\n",
        "| setting | final SWD | best SWD | D accuracy gap (train - held-out) |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {mean_std(f)} | {mean_std(b)} | {mean_std(g, 3)} |" for n, f, b, g in rows]
    write_results(args.out, lines, swd_curves, gap_curves, "SWD x 1e3 (100 faces)")


if __name__ == "__main__":
    main()
