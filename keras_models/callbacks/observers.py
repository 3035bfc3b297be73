"""Callbacks that show what training produces: sample grids, D's overfitting, copies.

Each runs every `every_n_steps` training batches and at the end of training (see
`PeriodicCallback`), running G and D only through the GAN's public API.
"""

import json
import os
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from keras_models.callbacks.batches import discriminate, fixed_latents, generate
from keras_models.callbacks.periodic import PeriodicCallback
from keras_models.callbacks.run_control import NonFiniteGuard
from keras_models.conditioning import unpack
from keras_models.images import image_grid, nearest_neighbours, save_png


class SampleGrid(PeriodicCallback):
    """Sample grids from fixed latents and the EMA generator, as PNG and TensorBoard image.

    Args:
        num_samples: grid size (latents drawn once from `seed`, so grids are comparable
            across steps and runs).
        output_dir: folder for `samples_{step:07d}.png`, or None.
        log_dir: TensorBoard folder for the `samples` image, or None.
        every_n_steps: period in training batches.
        labels: class indices for a conditional GAN (default 0, 1, 2, ...).
        seed: latent seed.
        columns: grid columns (default: square).
        initial_step: step count at the start (when resuming).
        guard: the run's `NonFiniteGuard`: no final grid of a diverged state.
    """

    def __init__(
        self,
        num_samples: int = 64,
        output_dir: str | None = None,
        log_dir: str | None = None,
        every_n_steps: int | None = 1000,
        labels: Sequence[int] | np.ndarray | None = None,
        seed: int = 0,
        columns: int | None = None,
        initial_step: int = 0,
        guard: NonFiniteGuard | None = None,
    ):
        super().__init__(every_n_steps, log_dir, initial_step, guard=guard)
        self.num_samples = num_samples
        self.output_dir = output_dir
        self.labels = labels
        self.seed = seed
        self.columns = columns
        self.latents = None

    def on_train_begin(self, logs=None):
        self.latents, self.labels = fixed_latents(
            self.model, self.num_samples, self.seed, self.labels
        )

    def run(self, step: int) -> None:
        grid = image_grid(generate(self.model, self.latents, self.labels), self.columns)
        if self.output_dir:
            save_png(grid, os.path.join(self.output_dir, f"samples_{step:07d}.png"))
        if self.writer is not None:
            with self.writer.as_default(step=step):
                tf.summary.image("samples", grid[None])


def _split_images(data):
    """`images` or `(images, labels)` -> (float32 images, int32 labels or None)."""
    images, labels = unpack(data)
    return np.asarray(images, np.float32), None if labels is None else np.asarray(labels)


class OverfittingMonitor(PeriodicCallback):
    """D's outputs on training reals vs held-out reals: the paper's overfitting signal.

    A discriminator that memorises its training set scores training reals higher than
    unseen reals of the same distribution. Every `every_n_steps` this callback logs, for
    both sets, D's mean logit and its sign accuracy (fraction of logits > 0, "real"), and
    the gap `accuracy(train) - accuracy(held-out)` (also in `self.history` and the epoch
    `logs`); past `threshold` it logs a warning (once per crossing). Images are not
    augmented (`training=False`).

    Args:
        train_images: training reals (or `(images, labels)`), float in [-1, 1].
        heldout_images: held-out reals of the same distribution (or `(images, labels)`).
        every_n_steps: period in training batches.
        log_dir: TensorBoard folder (`overfitting/...` scalars), or None.
        threshold: accuracy gap that triggers the warning.
        initial_step: step count at the start (when resuming).
        guard: the run's `NonFiniteGuard`: no final measure of a diverged state.
    """

    def __init__(
        self,
        train_images: np.ndarray | tuple,
        heldout_images: np.ndarray | tuple,
        every_n_steps: int | None = 1000,
        log_dir: str | None = None,
        threshold: float = 0.2,
        initial_step: int = 0,
        guard: NonFiniteGuard | None = None,
    ):
        super().__init__(every_n_steps, log_dir, initial_step, guard=guard)
        self.train_images, self.train_labels = _split_images(train_images)
        self.heldout_images, self.heldout_labels = _split_images(heldout_images)
        self.threshold = threshold
        self._warned = False

    def measure(self) -> dict[str, float]:
        """Current statistics: dict of mean logits, sign accuracies and their gaps."""
        train = discriminate(self.model, self.train_images, self.train_labels)
        heldout = discriminate(self.model, self.heldout_images, self.heldout_labels)
        stats = {
            "d_mean_train": float(train.mean()),
            "d_mean_heldout": float(heldout.mean()),
            "d_accuracy_train": float(np.mean(train > 0)),
            "d_accuracy_heldout": float(np.mean(heldout > 0)),
        }
        stats["mean_gap"] = stats["d_mean_train"] - stats["d_mean_heldout"]
        stats["accuracy_gap"] = stats["d_accuracy_train"] - stats["d_accuracy_heldout"]
        return stats

    def run(self, step: int) -> None:
        stats = self.measure()
        self.history.append({"step": step, **stats})
        self.log_scalars({f"overfitting/{k}": v for k, v in stats.items()}, step)
        over = stats["accuracy_gap"] > self.threshold
        if over and not self._warned:
            message = (
                f"Step {step}: the discriminator calls {stats['d_accuracy_train']:.0%} of "
                f"training reals real but only {stats['d_accuracy_heldout']:.0%} of held-out "
                f"reals (gap {stats['accuracy_gap']:.2f} > {self.threshold}): it is "
                "overfitting. Consider more augmentation (DiffAugment policy/probability) "
                "or more data."
            )
            warnings.warn(message, stacklevel=2)
        self._warned = over


class StrengthRecorder(PeriodicCallback):
    """The adaptive augmentation probability p and ADA's r_t over training.

    Every `every_n_steps` (and at the end) it appends `{"step", "augment_p", "r_t"}`, the
    GAN's `augment_strength.logs()`, to the JSON-lines file `path` (the run's
    `metrics.jsonl`, from which `keras_models.report` draws p and r_t over training).
    It records nothing for a GAN without an `augment_strength`.

    Args:
        path: the JSON-lines file to append to.
        every_n_steps: period in training batches.
        initial_step: step count at the start (when resuming).
        guard: the run's `NonFiniteGuard`: no final record of a diverged state.
    """

    def __init__(
        self,
        path: str,
        every_n_steps: int | None,
        initial_step: int = 0,
        guard: NonFiniteGuard | None = None,
    ):
        super().__init__(every_n_steps, initial_step=initial_step, guard=guard)
        self.path = path

    def run(self, step: int) -> None:
        strength = getattr(self.model, "augment_strength", None)
        if strength is None:
            return
        record = {"step": step, **{k: float(v) for k, v in strength.logs().items()}}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


class NearestNeighbourReport(PeriodicCallback):
    """Generated samples beside their nearest training images, as an image grid.

    Each row is a sample followed by its `k` nearest training images by pixel L2, then
    (with `feature_fn`) its `k` nearest by feature distance. A memorising generator
    shows near-copies. Written at the end of training (and every `every_n_steps` when
    set) to `output_path` (with `{step}` formatted in, if present) and
    `<output_path>.json` holding indices and distances; also a TensorBoard image.

    Args:
        train_images: (N, H, W, C) training images in [-1, 1].
        output_path: PNG path, e.g. "runs/x/neighbours_{step:07d}.png".
        num_samples: rows.
        k: neighbours per sample and distance.
        feature_fn: optional `images -> features` for the second set of neighbours.
        every_n_steps: period in training batches, or None (end of training only).
        log_dir: TensorBoard folder, or None.
        seed: seed of the samples' latents.
        initial_step: step count at the start (when resuming).
        guard: the run's `NonFiniteGuard`: no final report of a diverged state.
    """

    def __init__(
        self,
        train_images: np.ndarray,
        output_path: str,
        num_samples: int = 8,
        k: int = 3,
        feature_fn: Callable[[np.ndarray], np.ndarray] | None = None,
        every_n_steps: int | None = None,
        log_dir: str | None = None,
        seed: int = 1,
        initial_step: int = 0,
        guard: NonFiniteGuard | None = None,
    ):
        super().__init__(every_n_steps, log_dir, initial_step, guard=guard)
        self.train_images = np.asarray(train_images, np.float32)
        self.output_path = output_path
        self.num_samples = num_samples
        self.k = k
        self.feature_fn = feature_fn
        self.seed = seed

    def report(self) -> tuple[np.ndarray, dict]:
        """Returns `(grid, record)`: the uint8 grid and a JSON-able dict of neighbours."""
        samples = generate(self.model, *fixed_latents(self.model, self.num_samples, self.seed))
        pixel_idx, pixel_dist = nearest_neighbours(samples, self.train_images, self.k)
        rows = [np.concatenate([samples[:, None], self.train_images[pixel_idx]], axis=1)]
        record = {"pixel_l2": {"indices": pixel_idx.tolist(), "distances": pixel_dist.tolist()}}
        if self.feature_fn is not None:
            feat_idx, feat_dist = nearest_neighbours(
                samples, self.train_images, self.k, self.feature_fn
            )
            rows.append(self.train_images[feat_idx])
            record["feature_l2"] = {"indices": feat_idx.tolist(), "distances": feat_dist.tolist()}
        table = np.concatenate(rows, axis=1)  # (S, 1 + k [+ k], H, W, C)
        columns = table.shape[1]
        return image_grid(table.reshape(-1, *table.shape[2:]), columns), record

    def run(self, step: int) -> None:
        grid, record = self.report()
        path = self.output_path.format(step=step)
        save_png(grid, path)
        with open(path + ".json", "w", encoding="utf-8") as f:
            json.dump({"step": step, **record}, f)
        if self.writer is not None:
            with self.writer.as_default(step=step):
                tf.summary.image("nearest_neighbours", grid[None])
