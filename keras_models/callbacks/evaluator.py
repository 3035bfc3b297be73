"""Periodic evaluation of a training GAN: SWD and feature metrics, the best weights kept.

```python
evaluator = MetricEvaluator(train_images, log_dir="runs/x", every_n_steps=2000,
                            checkpoint_path="runs/x/best.weights.h5", monitor="swd")
```
"""

import errno
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from keras_models.callbacks.batches import fixed_latents, generate
from keras_models.callbacks.periodic import PeriodicCallback
from keras_models.callbacks.run_control import NonFiniteGuard
from keras_models.metrics.evaluation import (
    MetricResult,
    ReferenceStatistics,
    evaluate_inception,
    evaluate_swd,
)
from keras_models.sampling import metric_latents


class MetricEvaluator(PeriodicCallback):
    """Periodic SWD (always) and FID/KID/IS/precision-recall (with features), best checkpoint.

    Generates `num_fake` images from fixed latents with the EMA generator and compares
    them with `real_images`. Each evaluation is logged to TensorBoard (`metrics/<name>`),
    appended to `self.history` (and so to the epoch `logs`) and, with `history_path`, to a
    JSON-lines file with each result's protocol.

    Args:
        real_images: float (N, H, W, C) real images in [-1, 1] for SWD (e.g. the training
            subset), NumPy.
        every_n_steps: period in training batches.
        log_dir: TensorBoard folder, or None.
        num_fake: generated images per evaluation (default: as many as reals).
        inception: optional feature extractor: a `keras_models.metrics.InceptionFeatures`
            or the offline `EmojiFeatures` (see `metrics.feature_extractor`).
        reference: `keras_models.metrics.ReferenceStatistics` for FID/KID (with
            `inception`).
        metrics: what to compute on the features: "fid", "kid", "is" (Inception only)
            and "pr" (logged as "precision" and "recall").
        split: the real images' split, recorded in the protocol.
        history_path: JSON-lines file to append results to, or None.
        checkpoint_path: where `model.save_weights` keeps the best model so far (a
            `.weights.h5` path), or None.
        monitor: metric that decides "best": "swd", or one of the feature metrics
            computed ("fid", "kid", "is", "precision", "recall").
        seed: seed of the fake latents and of SWD.
        fresh_fakes: draw new latents (and uniform labels) at every evaluation, from
            `(seed, step)`, as the authors' CIFAR and StyleGAN2 evaluations do; False:
            the same latents and class-balanced labels at every evaluation.
        initial_step: step count at the start (when resuming).
        guard: the run's `NonFiniteGuard`: no final evaluation of a diverged state.

    Raises:
        ValueError: for `inception` without `reference` (or the reverse), or a feature
            metric to monitor without a feature extractor.
    """

    _HIGHER_IS_BETTER = {"is", "precision", "recall"}

    def __init__(
        self,
        real_images: np.ndarray,
        every_n_steps: int | None = 5000,
        log_dir: str | None = None,
        num_fake: int | None = None,
        inception: Callable | None = None,
        reference: ReferenceStatistics | None = None,
        metrics: Sequence[str] = ("fid", "kid", "is"),
        split: str = "train",
        history_path: str | None = None,
        checkpoint_path: str | None = None,
        monitor: str = "swd",
        seed: int = 0,
        initial_step: int = 0,
        guard: NonFiniteGuard | None = None,
        fresh_fakes: bool = False,
    ):
        super().__init__(every_n_steps, log_dir, initial_step, guard=guard)
        if (inception is None) != (reference is None):
            raise ValueError(
                "Expected both `inception` and `reference` (for FID/KID) or neither. "
                f"Received: inception={inception!r}, reference={reference!r}"
            )
        if monitor != "swd" and inception is None:
            raise ValueError(
                f"Expected monitor='swd' without Inception weights. Received: {monitor!r}"
            )
        self.real_images = np.asarray(real_images, np.float32)
        self.num_fake = num_fake or len(self.real_images)
        self.inception = inception
        self.reference = reference
        self.metrics = tuple(metrics)
        self.split = split
        self.history_path = history_path
        self.checkpoint_path = checkpoint_path
        self.monitor = monitor
        self.seed = seed
        self.fresh_fakes = fresh_fakes
        self.best = self._saved_best()

    def _saved_best(self):
        """The monitored value of the weights already in `checkpoint_path` (a resumed
        run must not replace its best weights by worse ones), or None."""
        record = (self.checkpoint_path or "") + ".json"
        if not self.checkpoint_path or not os.path.exists(record):
            return None
        with open(record, encoding="utf-8") as f:
            return json.load(f).get(self.monitor)

    def evaluate(self, step: int | None = None) -> dict[str, MetricResult]:
        """Computes the metrics now, at training step `step` (which seeds fresh fakes);
        returns `{name: MetricResult}`."""
        if self.fresh_fakes and step is not None:
            latents, labels = metric_latents(
                (self.seed, step), self.num_fake, self.model.latent_dim, self.model.num_classes
            )
        else:
            latents, labels = fixed_latents(self.model, self.num_fake, self.seed)
        fakes = generate(self.model, latents, labels)
        results = {"swd": evaluate_swd(self.real_images, fakes, split=self.split, seed=self.seed)}
        if self.inception is not None:
            results.update(
                evaluate_inception(self.inception, self.reference, fakes, metrics=self.metrics)
            )
        return results

    def _improved(self, value):
        if not math.isfinite(value):  # a diverged model is never the best
            return False
        if self.best is None:
            return True
        if self.monitor in self._HIGHER_IS_BETTER:
            return value > self.best
        return value < self.best

    def run(self, step: int) -> None:
        results = self.evaluate(step)
        values = {name: r.value for name, r in results.items()}
        self.log_scalars({f"metrics/{name}": v for name, v in values.items()}, step)
        record = {"step": step, **values, "protocols": {k: r.protocol for k, r in results.items()}}
        self.history.append(record)
        if self.history_path:
            os.makedirs(os.path.dirname(os.path.abspath(self.history_path)), exist_ok=True)
            with open(self.history_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if self._improved(values[self.monitor]):
            self.best = values[self.monitor]
            if self.checkpoint_path:  # written whole, then renamed: a kill leaves the old
                temp = self.checkpoint_path.removesuffix(".weights.h5") + ".tmp.weights.h5"
                check_free_space(self.model.weights, temp)
                self.model.save_weights(temp)
                with open(temp + ".json", "w", encoding="utf-8") as f:
                    json.dump(record, f, indent=1)
                os.replace(temp, self.checkpoint_path)
                os.replace(temp + ".json", self.checkpoint_path + ".json")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.history:
            logs.update(
                {k: v for k, v in self.history[-1].items() if k not in ("step", "protocols")}
            )


def check_free_space(weights: list, path: str) -> None:
    """Raises `OSError` (ENOSPC) when the folder of `path` has no room for `weights`.

    HDF5 cannot recover from a write that fails for want of space: the process crashes
    (a segmentation fault, after pages of h5py errors) before the error reaches Python.
    So a `.weights.h5` file is only begun when it fits, with a margin for HDF5's own
    structures.

    Args:
        weights: the variables the file will hold.
        path: the file to write.
    """
    folder = os.path.dirname(os.path.abspath(path))
    needed = 1.1 * sum(int(np.prod(w.shape)) * tf.as_dtype(w.dtype).size for w in weights)
    needed += 2**20
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"No space left to write {path} (about {needed / 2**20:.1f} MiB needed, "
            f"{free / 2**20:.1f} MiB free). Free some space",
        )
