"""Noise floors of the experiments' metrics: real vs real, a set vs itself, seed spread.

    nice -n 10 python benchmarks/metric_noise.py [--seeds 5] [--resolution 32]

For SWD and, on the offline emoji extractor (`keras_models.metrics.EmojiFeatures`, NOT
Inception), FID, KID and precision/recall, at the sample sizes the CPU experiments use:
on the shipped Noto faces (169 images; sets of 16 to 84) and on every Noto emoji
(`python benchmarks/emoji_build.py build --set all`, run here through npm into --cache when
missing; sets of 64 to half the set). Writes `metric_noise.md` (the table shown in the
README) and `metric_noise.json` (read with `keras_models.metrics.noise.load_noise_floors`,
so that experiment scripts can mark which differences exceed the floor) into --out.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import emoji_build  # noqa: E402
import numpy as np  # noqa: E402

from keras_models import data  # noqa: E402
from keras_models.metrics import EmojiFeatures, noise  # noqa: E402


def load(path, resolution):
    return data.read_images(path, resolution)[0].astype(np.float32) / 127.5 - 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--cache", default=os.path.join(ROOT, "runs", "emoji_all"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = parser.parse_args(argv)
    start = time.process_time()
    extractor = EmojiFeatures()
    faces = load(data.FACES_DIR, args.resolution)
    sets = [("noto faces", faces, (16, 32, 64, len(faces) // 2))]
    if not os.path.exists(os.path.join(args.cache, "manifest.json")):
        emoji_build.build(args.cache, "all")
    every = load(args.cache, args.resolution)
    sets.append(("noto all", every, (64, 128, 256, 512, len(every) // 2)))
    floors = []
    for name, images, sizes in sets:
        floors += noise.noise_floors(
            images, sizes, data=f"{name} ({len(images)})", extractor=extractor, seeds=args.seeds
        )
    minutes = (time.process_time() - start) / 60
    summaries = "\n\n".join(
        noise.summary_table(floors, data) for data in dict.fromkeys(f.data for f in floors)
    )
    table = summaries + "\n\nAll numbers:\n\n" + noise.markdown_table(floors)
    header = (
        f"Metric noise floors at {args.resolution} px, {args.seeds} seeds "
        f"(`python benchmarks/metric_noise.py`, {minutes:.1f} CPU min). SWD x 1e3 on pixels; "
        "FID, KID and precision/recall on the offline emoji extractor "
        f"({extractor.metadata['source']}, weights {extractor.sha256[:12]}): not Inception "
        "numbers. Real vs real: two disjoint random sets of N images, mean ± std over the "
        "seeds' splits; metric-seed std: one fixed pair, the metric's own seed varied.\n"
    )
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "metric_noise.md"), "w", encoding="utf-8") as f:
        f.write(header + "\n" + table + "\n")
    noise.save_noise_floors(os.path.join(args.out, "metric_noise.json"), floors)
    print(header + "\n" + table)


if __name__ == "__main__":
    main()
