"""Callbacks that show GAN training working: samples, metrics, overfitting, neighbours.

They rely only on the public API of `keras_models.GAN`:
`gan.generate(latents, labels, use_ema=True)`, `gan.latent_dim`, `gan.num_classes` and
`gan.discriminate(images, labels, role="clean", training=False)`, which returns
`(logits (B,), images seen)`: D is only ever run through the GAN, its single
augmentation point ("clean" is never augmented).
Steps count training batches seen by the callback (plus `initial_step` on resume).
TensorBoard summaries go to `log_dir` (read with `tensorboard --logdir`).

```python
callbacks = [
    SampleGrid(64, log_dir="runs/x", output_dir="runs/x/samples", every_n_steps=500),
    MetricEvaluator(train_images, log_dir="runs/x", every_n_steps=2000,
                    checkpoint_path="runs/x/best.weights.h5", monitor="swd"),
    OverfittingMonitor(train_images, heldout_images, log_dir="runs/x", every_n_steps=500),
    NearestNeighbourReport(train_images, "runs/x/neighbours.png"),
]
```
"""

import json
import math
import os
import warnings

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from keras_models.conditioning import unpack
from keras_models.metrics.evaluation import evaluate_inception, evaluate_swd


def image_grid(images, columns=None):
    """(N, H, W, C) images in [-1, 1] -> one uint8 (rows*H, columns*W, C) grid."""
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    pixels = np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)
    grid = np.full((rows * h, columns * w, c), 255, np.uint8)
    for i, image in enumerate(pixels):
        r, col = divmod(i, columns)
        grid[r * h : (r + 1) * h, col * w : (col + 1) * w] = image
    return grid


def save_png(grid, path):
    """Writes a uint8 HWC grid (1 or 3 channels) as PNG, creating the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)


def fixed_latents(gan, num, seed=0, labels=None):
    """Reproducible latents (and labels: 0, 1, 2, ... for a conditional GAN)."""
    latents = np.random.default_rng(seed).standard_normal((num, gan.latent_dim), np.float32)
    if gan.num_classes is not None and labels is None:
        labels = np.arange(num, dtype=np.int32) % gan.num_classes
    return latents, None if labels is None else np.asarray(labels, np.int32)


def _in_batches(fn, inputs, labels, batch_size):
    """`fn(inputs, labels)` over consecutive batches (labels may be None), concatenated."""
    outputs = []
    for i in range(0, len(inputs), batch_size):
        batch_labels = None if labels is None else labels[i : i + batch_size]
        outputs.append(np.asarray(fn(inputs[i : i + batch_size], batch_labels)))
    return np.concatenate(outputs)


def generate(gan, latents, labels=None, batch_size=64):
    """EMA-generator images for given latents, in batches, as NumPy."""
    return _in_batches(lambda z, y: gan.generate(z, y, use_ema=True), latents, labels, batch_size)


class _PeriodicCallback(keras.callbacks.Callback):
    """Runs `run(step)` every `every_n_steps` training batches (and at the end of training).

    Subclasses that measure something append `{"step": step, name: value, ...}` records to
    `self.history`; the latest record's numbers also go into the Keras epoch `logs`, so
    that `fit`'s History and other callbacks see them.
    """

    def __init__(self, every_n_steps, log_dir=None, initial_step=0, at_train_end=True):
        super().__init__()
        self.history = []
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"Expected every_n_steps >= 1 or None. Received: {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.log_dir = log_dir
        self.step = initial_step
        self.at_train_end = at_train_end
        self._writer = None
        self._last_run = None

    @property
    def writer(self):
        if self._writer is None and self.log_dir:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every_n_steps and self.step % self.every_n_steps == 0:
            self._last_run = self.step
            self.run(self.step)

    def on_train_end(self, logs=None):
        diverged = getattr(self.model, "diverged", None) is not None  # see NonFiniteGuard
        if self.at_train_end and self._last_run != self.step and not diverged:
            self.run(self.step)
        if self._writer is not None:
            self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.history:
            logs.update(
                {k: v for k, v in self.history[-1].items() if k != "step" and np.isscalar(v)}
            )

    def log_scalars(self, values, step):
        if self.writer is None:
            return
        with self.writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(name, value)

    def run(self, step):
        raise NotImplementedError


class SampleGrid(_PeriodicCallback):
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
    """

    def __init__(
        self,
        num_samples=64,
        output_dir=None,
        log_dir=None,
        every_n_steps=1000,
        labels=None,
        seed=0,
        columns=None,
        initial_step=0,
    ):
        super().__init__(every_n_steps, log_dir, initial_step)
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

    def run(self, step):
        grid = image_grid(generate(self.model, self.latents, self.labels), self.columns)
        if self.output_dir:
            save_png(grid, os.path.join(self.output_dir, f"samples_{step:07d}.png"))
        if self.writer is not None:
            with self.writer.as_default(step=step):
                tf.summary.image("samples", grid[None])


class MetricEvaluator(_PeriodicCallback):
    """Periodic SWD (always) and FID/KID/IS/precision-recall (with features), best checkpoint.

    Generates `num_fake` images from fixed latents with the EMA generator and compares
    them with `real_images`. Each evaluation is logged to TensorBoard (`metrics/<name>`),
    appended to `self.history` (and so to the epoch `logs`) and, with `history_path`, to a
    JSON-lines file with each result's protocol. When the model has an adaptive
    `augment_strength` (`keras_models.GAN`), each record also holds its current
    `augment_p` and `r_t`.

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
        initial_step: step count at the start (when resuming).
    """

    _HIGHER_IS_BETTER = {"is", "precision", "recall"}

    def __init__(
        self,
        real_images,
        every_n_steps=5000,
        log_dir=None,
        num_fake=None,
        inception=None,
        reference=None,
        metrics=("fid", "kid", "is"),
        split="train",
        history_path=None,
        checkpoint_path=None,
        monitor="swd",
        seed=0,
        initial_step=0,
    ):
        super().__init__(every_n_steps, log_dir, initial_step)
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
        self.best = self._saved_best()

    def _saved_best(self):
        """The monitored value of the weights already in `checkpoint_path` (a resumed
        run must not replace its best weights by worse ones), or None."""
        record = (self.checkpoint_path or "") + ".json"
        if not self.checkpoint_path or not os.path.exists(record):
            return None
        with open(record, encoding="utf-8") as f:
            return json.load(f).get(self.monitor)

    def evaluate(self):
        """Computes the metrics now; returns `{name: MetricResult}`."""
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

    def run(self, step):
        results = self.evaluate()
        values = {name: r.value for name, r in results.items()}
        self.log_scalars({f"metrics/{name}": v for name, v in values.items()}, step)
        record = {"step": step, **values, "protocols": {k: r.protocol for k, r in results.items()}}
        strength = getattr(self.model, "augment_strength", None)
        if strength is not None:  # p over training, beside the metrics it led to
            record.update({k: float(v) for k, v in strength.logs().items()})
        self.history.append(record)
        if self.history_path:
            os.makedirs(os.path.dirname(os.path.abspath(self.history_path)), exist_ok=True)
            with open(self.history_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if self._improved(values[self.monitor]):
            self.best = values[self.monitor]
            if self.checkpoint_path:  # written whole, then renamed: a kill leaves the old
                temp = self.checkpoint_path.removesuffix(".weights.h5") + ".tmp.weights.h5"
                self.model.save_weights(temp)
                with open(temp + ".json", "w", encoding="utf-8") as f:
                    json.dump(record, f, indent=1)
                os.replace(temp, self.checkpoint_path)
                os.replace(temp + ".json", self.checkpoint_path + ".json")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.history:
            # The training logs already hold the current augment_p and r_t.
            skip = ("step", "protocols", "augment_p", "r_t")
            logs.update({k: v for k, v in self.history[-1].items() if k not in skip})


def _discriminate(gan, images, labels, batch_size=256):
    """D's float64 logits on un-augmented images, through the GAN's one path to D."""
    logits = lambda x, y: gan.discriminate(x, y, role="clean", training=False)[0]
    return _in_batches(logits, images, labels, batch_size).astype(np.float64)


def _split_images(data):
    """`images` or `(images, labels)` -> (float32 images, int32 labels or None)."""
    images, labels = unpack(data)
    return np.asarray(images, np.float32), None if labels is None else np.asarray(labels)


class OverfittingMonitor(_PeriodicCallback):
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
    """

    def __init__(
        self,
        train_images,
        heldout_images,
        every_n_steps=1000,
        log_dir=None,
        threshold=0.2,
        initial_step=0,
    ):
        super().__init__(every_n_steps, log_dir, initial_step)
        self.train_images, self.train_labels = _split_images(train_images)
        self.heldout_images, self.heldout_labels = _split_images(heldout_images)
        self.threshold = threshold
        self._warned = False

    def measure(self):
        """Current statistics: dict of mean logits, sign accuracies and their gaps."""
        train = _discriminate(self.model, self.train_images, self.train_labels)
        heldout = _discriminate(self.model, self.heldout_images, self.heldout_labels)
        stats = {
            "d_mean_train": float(train.mean()),
            "d_mean_heldout": float(heldout.mean()),
            "d_accuracy_train": float(np.mean(train > 0)),
            "d_accuracy_heldout": float(np.mean(heldout > 0)),
        }
        stats["mean_gap"] = stats["d_mean_train"] - stats["d_mean_heldout"]
        stats["accuracy_gap"] = stats["d_accuracy_train"] - stats["d_accuracy_heldout"]
        return stats

    def run(self, step):
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


def nearest_neighbours(samples, train_images, k=3, feature_fn=None):
    """The k nearest training images of each sample.

    Args:
        samples: (S, H, W, C) generated images in [-1, 1].
        train_images: (N, H, W, C) training images in [-1, 1].
        k: neighbours per sample.
        feature_fn: optional `images -> (N, D) features` (e.g.
            `lambda x: inception(x)[0]`); distances are then L2 in feature space.

    Returns:
        `(indices, distances)`, both (S, k), nearest first; pixel distances are the L2
        norm over all pixels in [-1, 1] units.
    """
    if feature_fn is None:
        a = np.asarray(samples, np.float64).reshape(len(samples), -1)
        b = np.asarray(train_images, np.float64).reshape(len(train_images), -1)
    else:
        a = np.asarray(feature_fn(samples), np.float64)
        b = np.asarray(feature_fn(train_images), np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    indices = np.argsort(squared, axis=1, kind="stable")[:, :k]
    distances = np.sqrt(np.maximum(np.take_along_axis(squared, indices, axis=1), 0.0))
    return indices, distances


class NearestNeighbourReport(_PeriodicCallback):
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
    """

    def __init__(
        self,
        train_images,
        output_path,
        num_samples=8,
        k=3,
        feature_fn=None,
        every_n_steps=None,
        log_dir=None,
        seed=1,
        initial_step=0,
    ):
        super().__init__(every_n_steps, log_dir, initial_step)
        self.train_images = np.asarray(train_images, np.float32)
        self.output_path = output_path
        self.num_samples = num_samples
        self.k = k
        self.feature_fn = feature_fn
        self.seed = seed

    def report(self):
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

    def run(self, step):
        grid, record = self.report()
        path = self.output_path.format(step=step)
        save_png(grid, path)
        with open(path + ".json", "w", encoding="utf-8") as f:
            json.dump({"step": step, **record}, f)
        if self.writer is not None:
            with self.writer.as_default(step=step):
                tf.summary.image("nearest_neighbours", grid[None])


class CheckpointEveryEpoch(keras.callbacks.Callback):
    """Saves a checkpoint, numbered by the training step, at the end of every epoch.

    Args:
        manager: the `tf.train.CheckpointManager` of the run.
        step: the variable counting training steps (`GAN.train_steps`).
        guard: a `NonFiniteGuard` listed before this callback, or None: once it has
            stopped training no checkpoint is written, so that the newest checkpoint
            stays the last good one.

    Raises:
        OSError: when the checkpoint cannot be written (e.g. no permission, disk full),
            naming the directory and TensorFlow's reason.
    """

    def __init__(self, manager, step, guard=None):
        super().__init__()
        self.manager, self.step, self.guard = manager, step, guard

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.reason is not None:
            return
        try:
            self.manager.save(checkpoint_number=int(self.step.numpy()))
        except (OSError, tf.errors.OpError) as error:
            reason = getattr(error, "message", None) or str(error)
            raise OSError(
                f"Could not write a checkpoint to {self.manager.directory!r}: "
                f"{reason.splitlines()[0]}"
            ) from error


class StopAtStep(keras.callbacks.Callback):
    """Ends `fit` after training step `last_step`, within an epoch if need be.

    `fit` runs whole epochs; a run whose length is not a multiple of its epoch stops
    here instead of overshooting. The epoch's end still runs, so checkpoints and other
    epoch-end outputs are written for the last step.

    Args:
        last_step: the step count at which to stop.
        steps_per_epoch: the `steps_per_epoch` given to `fit`.
        initial_step: the step count when `fit` starts, or None: epoch `e` starts at
            step `e * steps_per_epoch` (as when resuming with `initial_epoch`). A run
            resumed from any other step gives it, and its epochs then end at
            `initial_step + k * steps_per_epoch`.
    """

    def __init__(self, last_step, steps_per_epoch, initial_step=None):
        super().__init__()
        self.last_step, self.steps_per_epoch = int(last_step), int(steps_per_epoch)
        self.initial_step = initial_step
        self.step = None

    def on_train_begin(self, logs=None):
        self.step = self.initial_step

    def on_epoch_begin(self, epoch, logs=None):
        if self.step is None:
            self.step = epoch * self.steps_per_epoch

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step >= self.last_step:
            self.model.stop_training = True


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops `fit` of a `GAN` when training has diverged, before its state is saved.

    Training has diverged when `max_nonfinite_steps` consecutive steps had a non-finite
    loss or gradient (checked after every step; the GAN skips such updates), or, at the
    end of an epoch, when a number in the epoch's logs is not finite (e.g. an evaluation
    metric a callback listed before this one put there) or a trainable weight exceeds
    `max_abs_weight` in magnitude (weights that explode while the losses stay finite).
    `reason` then says why (None while training is sound), and so does the model's
    `diverged` attribute, which the periodic callbacks here read to write no final
    samples or reports of the diverged state; a warning names the last checkpoint, from
    which training can resume, e.g. with lower learning rates. Give the guard to
    `CheckpointEveryEpoch` (listed after it) so that no checkpoint of the diverged
    state replaces that one.

    Args:
        max_nonfinite_steps: consecutive skipped steps tolerated.
        checkpoint_dir: where checkpoints are written (a `tf.train.CheckpointManager`
            directory or a `keras.callbacks.BackupAndRestore` backup_dir), or None.
        max_abs_weight: the largest weight magnitude of sound training (Adam moves a
            weight by about its learning rate per step, so a sane run stays far below
            the default), or None to not check.
        warn: warn when stopping (False when the caller reports the stop itself).
    """

    def __init__(self, max_nonfinite_steps=10, checkpoint_dir=None, max_abs_weight=1e6, warn=True):
        super().__init__()
        self.max_nonfinite_steps = int(max_nonfinite_steps)
        self.checkpoint_dir = checkpoint_dir
        self.max_abs_weight = max_abs_weight
        self.warn = warn
        self.reason = None

    def on_train_begin(self, logs=None):
        self.reason = self.model.diverged = None

    def on_train_batch_end(self, batch, logs=None):
        streak = int(keras.ops.convert_to_numpy(self.model.nonfinite_streak))
        if streak >= self.max_nonfinite_steps:
            self._stop(
                f"{streak} consecutive steps had a non-finite loss or gradient "
                f"(max_nonfinite_steps={self.max_nonfinite_steps}); their updates were skipped"
            )

    def on_epoch_end(self, epoch, logs=None):
        if self.reason is not None:
            return
        nonfinite = sorted(
            name
            for name, value in (logs or {}).items()
            if np.isscalar(value) and not np.isfinite(value)
        )
        if nonfinite:
            verb = "is" if len(nonfinite) == 1 else "are"
            self._stop(f"{', '.join(nonfinite)} {verb} not finite")
        elif self.max_abs_weight is not None:
            weights = self.model.trainable_weights
            largest = float(
                tf.reduce_max([tf.reduce_max(tf.abs(tf.cast(w, "float32"))) for w in weights])
            )
            if not largest <= self.max_abs_weight:  # also catches NaN
                self._stop(
                    f"a trainable weight reached {largest:.3g} in magnitude "
                    f"(max_abs_weight={self.max_abs_weight:g})"
                )

    def _stop(self, reason):
        self.model.stop_training = True
        self.reason = self.model.diverged = reason
        if not self.warn:
            return
        warnings.warn(
            f"Training stopped, it diverged: {reason}. Last good checkpoint: "
            f"{self.last_checkpoint()}. Check the data and lower the learning rates "
            "before resuming.",
            RuntimeWarning,
            stacklevel=2,
        )

    def last_checkpoint(self):
        """The newest checkpoint in `checkpoint_dir`, or a sentence saying there is none."""
        if self.checkpoint_dir is None:
            return "none (no checkpoint_dir given)"
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        backup = os.path.join(self.checkpoint_dir, "latest.weights.h5")
        if latest is None and os.path.exists(backup):
            latest = backup
        return latest or f"none found in {self.checkpoint_dir}"
