"""Noise floors: what a metric reads when nothing differs, at a given sample size.

A GAN metric computed on N images is a random estimate. Two sets of N real images of one
distribution are not at distance 0: at the sample sizes of CPU experiments (tens to
hundreds of images) that "real vs real" distance is often as large as the differences
between training settings. `noise_floors` measures, for each metric and N,

- real vs real: the metric between two disjoint random sets of N real images, as mean
  and std over `seeds` random splits (each split also reseeds the metric's own
  randomness: SWD patches and directions, KID subsets);
- set vs itself: the metric between a set and an exact copy (0 for SWD, FID and KID up
  to the definition: unbiased KID of a set with itself is slightly negative; 1 for
  precision and recall);
- metric-seed std: the std over seeds of the metric's own randomness alone, on one
  fixed pair of sets (0 for the deterministic FID and precision/recall).

A difference between two settings measured at the same N is `NoiseFloor.significant`
when it exceeds `z` times the std of a difference of two such estimates (sqrt(2) times
the real-vs-real std), and a value is `distinguishable` from real data when it lies
beyond the real-vs-real mean by `z` of its std.
"""

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from keras_models.metrics.features import FeatureExtractor
from keras_models.metrics.fid import frechet_distance
from keras_models.metrics.kid import kernel_distance
from keras_models.metrics.precision_recall import precision_recall
from keras_models.metrics.swd import sliced_wasserstein

IMAGE_METRICS = ("swd",)
FEATURE_METRICS = ("fid", "kid", "precision", "recall")
HIGHER_IS_BETTER = ("precision", "recall")


@dataclasses.dataclass(frozen=True)
class NoiseFloor:
    """A metric's noise floor at one sample size.

    Attributes:
        data: name of the real images it was measured on.
        metric: "swd", "fid", "kid", "precision" or "recall".
        num: images per set.
        real_vs_real: mean over splits of the metric between two disjoint real sets.
        std: std over those splits.
        self_distance: the metric between a set and a copy of itself.
        metric_seed_std: std over the metric's own seeds on one pair of sets.
        seeds: number of splits (and metric seeds).
    """

    data: str
    metric: str
    num: int
    real_vs_real: float
    std: float
    self_distance: float
    metric_seed_std: float
    seeds: int

    def significant(self, difference: float, z: float = 2.0) -> bool:
        """Whether a difference of two values of this metric at `num` exceeds the noise."""
        return abs(difference) > z * math.sqrt(2.0) * self.std

    def distinguishable(self, value: float, z: float = 2.0) -> bool:
        """Whether a generator's value at `num` is worse than real data's by > z std."""
        if self.metric in HIGHER_IS_BETTER:
            return value < self.real_vs_real - z * self.std
        return value > self.real_vs_real + z * self.std


def _feature_metrics(a: np.ndarray, b: np.ndarray, seed: int) -> dict[str, float]:
    precision, recall = precision_recall(a, b)
    return {
        "fid": frechet_distance(a, b),
        "kid": kernel_distance(a, b, seed=seed)[0],
        "precision": precision,
        "recall": recall,
    }


def noise_floors(
    images: npt.ArrayLike,
    sizes: Sequence[int],
    *,
    data: str = "images",
    extractor: FeatureExtractor | None = None,
    seeds: int = 5,
) -> list[NoiseFloor]:
    """Measures the noise floor of SWD (and, with `extractor`, FID/KID/P/R) at each size.

    Args:
        images: float (N, H, W, C) real images in [-1, 1], N >= 2 * max(sizes).
        sizes: images per set, e.g. (64, 128, 256).
        data: name recorded in each result.
        extractor: a `FeatureExtractor` (`InceptionFeatures`, `EmojiFeatures`) for the
            feature metrics, or None (SWD only).
        seeds: random splits (>= 2), and metric seeds.

    Returns:
        A list of `NoiseFloor`, by size then metric.
    """
    images = np.asarray(images, np.float32)
    if seeds < 2 or 2 * max(sizes) > len(images):
        raise ValueError(
            f"Expected seeds >= 2 and 2 * max(sizes) <= {len(images)} images (two disjoint "
            f"sets). Received: seeds={seeds}, sizes={tuple(sizes)}."
        )
    features = None if extractor is None else extractor(images)[0]
    names = IMAGE_METRICS + (FEATURE_METRICS if features is not None else ())

    def measure(a: np.ndarray, b: np.ndarray, seed: int) -> dict[str, float]:
        """Every metric between the images (features) at indices a and at indices b."""
        values = {"swd": sliced_wasserstein(images[a], images[b], seed=seed)}
        if features is not None:
            values.update(_feature_metrics(features[a], features[b], seed))
        return values

    floors = []
    for num in sizes:
        splits = []
        for seed in range(seeds):
            order = np.random.default_rng(seed).permutation(len(images))
            splits.append(measure(order[:num], order[num : 2 * num], seed))
        first = np.arange(num)
        itself = measure(first, first, 0)
        pair = (first, np.arange(num, 2 * num))
        reseeded = [measure(*pair, seed) for seed in range(seeds)]
        for name in names:
            values = np.array([s[name] for s in splits])
            floors.append(
                NoiseFloor(
                    data=data,
                    metric=name,
                    num=int(num),
                    real_vs_real=float(values.mean()),
                    std=float(values.std(ddof=1)),
                    self_distance=float(itself[name]),
                    metric_seed_std=float(np.std([r[name] for r in reseeded], ddof=1)),
                    seeds=seeds,
                )
            )
    return floors


def save_noise_floors(path: str, floors: Iterable[NoiseFloor]) -> None:
    """Writes floors as a JSON list (read back with `load_noise_floors`)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump([dataclasses.asdict(floor) for floor in floors], f, indent=1)
        f.write("\n")


def load_noise_floors(path: str) -> dict[tuple[str, str, int], NoiseFloor]:
    """`{(data, metric, num): NoiseFloor}` from a file of `save_noise_floors`, e.g. the
    measured `benchmarks/results/metric_noise.json`."""
    with open(path, encoding="utf-8") as f:
        floors = [NoiseFloor(**entry) for entry in json.load(f)]
    return {(floor.data, floor.metric, floor.num): floor for floor in floors}


def markdown_table(floors: Iterable[NoiseFloor]) -> str:
    """The floors as a markdown table (one row per data, metric and size)."""
    rows = [
        "| data | metric | N per set | real vs real (mean ± std) | set vs itself "
        "| metric-seed std |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for f in sorted(floors, key=lambda f: (f.data, f.metric, f.num)):
        rows.append(
            f"| {f.data} | {f.metric} | {f.num} | {f.real_vs_real:.4g} ± {f.std:.2g} "
            f"| {f.self_distance:.3g} | {f.metric_seed_std:.2g} |"
        )
    return "\n".join(rows)


def summary_table(floors: Iterable[NoiseFloor], data: str) -> str:
    """Real-vs-real "mean ± std" of one data set's floors: a row per metric, a column
    per N (the compact form docs/data-and-metrics.md shows)."""
    chosen = [f for f in floors if f.data == data]
    sizes = sorted({f.num for f in chosen})
    cell = {(f.metric, f.num): f"{f.real_vs_real:.3g} ± {f.std:.2g}" for f in chosen}
    rows = [
        f"| {data}: metric | " + " | ".join(f"N = {n}" for n in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for metric in IMAGE_METRICS + FEATURE_METRICS:
        if any((metric, n) in cell for n in sizes):
            rows.append(
                f"| {metric} | " + " | ".join(cell.get((metric, n), "") for n in sizes) + " |"
            )
    return "\n".join(rows)
