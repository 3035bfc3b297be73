"""Training subsets: which images a `percent=` or `num_images=` subset keeps.

This module owns the subset rule for every source (tfds splits, image folders, the
run's configuration): at most one of `percent` and `num_images`, `0 < percent <= 100`,
and the choice itself, made once and deterministically by one of `SUBSET_SELECTIONS`:

* "stratified" (this project's default): labelled data is sampled per class, so a 10%
  subset of CIFAR-10 has exactly 10% of each class (500 images per class); per-class
  counts are rounded by largest remainder, ties to the lower class id; within a class
  (or the whole set when unlabelled) the images are the first ones of a permutation
  drawn from `numpy.random.default_rng(seed)`;
* "uniform" (DiffAugment-biggan-cifar's datasets.py): `size` indices drawn without
  replacement by the legacy `numpy.random.RandomState(seed).choice`, ignoring labels,
  so seed 0 keeps the very images of the authors' `np.random.seed(0)` subsets;
* "first" (DiffAugment-stylegan2's `dset.take(max_images)`): the first `size` images.

The indices refer to the source's canonical order, so the same arguments give the same
images on every machine.
"""

import numpy as np

SUBSET_SELECTIONS = ("stratified", "uniform", "first")


def check_subset(percent: float | None, num_images: int | None) -> None:
    """Checks a subset's arguments: at most one of the two, and a percentage in (0, 100].

    Args:
        percent: the percentage of the images to keep, or None.
        num_images: the number of images to keep, or None.

    Raises:
        ValueError: when both are given or `percent` is outside (0, 100].
    """
    if percent is not None and num_images is not None:
        raise ValueError(
            "Expected at most one of `percent` and `num_images`. "
            f"Received: percent={percent}, num_images={num_images}"
        )
    if percent is not None and not 0 < percent <= 100:
        raise ValueError(f"Expected 0 < percent <= 100. Received: percent={percent}")


def is_subset(percent: float | None, num_images: int | None) -> bool:
    """Whether the arguments ask for a subset (rather than all the images)."""
    return percent is not None or num_images is not None


def subset_size(num_total: int, percent: float | None, num_images: int | None) -> int | None:
    """How many of `num_total` images a subset keeps.

    Args:
        num_total: the number of images available.
        percent: keep this percentage of them (rounded to the nearest count), or None.
        num_images: or keep this many, or None.

    Returns:
        The subset's size, or None when neither argument is given (all images are kept).

    Raises:
        ValueError: as `check_subset`.
    """
    check_subset(percent, num_images)
    if percent is not None:
        return int(round(num_total * percent / 100))
    return num_images


def select_subset(
    num_total: int,
    size: int,
    labels: np.ndarray | None = None,
    seed: int = 0,
    selection: str = "stratified",
) -> np.ndarray:
    """Chooses `size` of `num_total` indices by the rule `selection` (see the module).

    Args:
        num_total: number of examples in the split.
        size: how many to keep, in [1, num_total].
        labels: optional int array (num_total,); with it a "stratified" choice keeps each
            class's share (the other rules ignore labels).
        seed: seed of the "stratified" and "uniform" choices.
        selection: one of `SUBSET_SELECTIONS`.

    Returns:
        Sorted int64 array of `size` indices.

    Raises:
        ValueError: for a size outside [1, num_total] or an unknown `selection`.
    """
    if not 0 < size <= num_total:
        raise ValueError(
            f"Expected a subset size in [1, {num_total}]. Received: size={size}. "
            "Check `percent` / `num_images`."
        )
    if selection == "first":
        return np.arange(size, dtype=np.int64)
    if selection == "uniform":
        # The legacy generator on purpose: `np.random.seed(seed); np.random.choice(...)`
        # in the authors' code draws from it, and its streams are frozen across NumPy
        # versions. The authors index in draw order; the set is what training sees (the
        # loader shuffles), so it is returned sorted like the other rules.
        chosen = np.random.RandomState(seed).choice(num_total, size, replace=False)
        return np.sort(chosen).astype(np.int64)
    if selection != "stratified":
        raise ValueError(
            f"Expected a subset selection in {SUBSET_SELECTIONS}. Received: selection={selection!r}"
        )
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.permutation(num_total)[:size])
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * size / num_total
    take = np.floor(quota).astype(np.int64)
    # Largest remainder; a stable sort breaks ties toward the lower class id.
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: size - take.sum()]] += 1
    chosen = [
        rng.permutation(np.flatnonzero(labels == c))[:n] for c, n in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def choose_subset(
    num_total: int,
    percent: float | None,
    num_images: int | None,
    labels: np.ndarray | None = None,
    seed: int = 0,
    selection: str = "stratified",
) -> np.ndarray | None:
    """The indices a `percent=` / `num_images=` subset keeps of `num_total` images.

    Args:
        num_total: the number of images available.
        percent, num_images: the subset (see `subset_size`).
        labels: optional int array (num_total,) for a stratified choice.
        seed: seed of the choice.
        selection: the rule, one of `SUBSET_SELECTIONS` (see `select_subset`).

    Returns:
        Sorted int64 indices (see `select_subset`), or None when no subset is asked for.
    """
    size = subset_size(num_total, percent, num_images)
    return None if size is None else select_subset(num_total, size, labels, seed, selection)
