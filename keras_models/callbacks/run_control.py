"""Callbacks that control a training run: checkpoints, where it stops, divergence.

`StopAtStep` ends `fit` at an exact step, `CheckpointEveryEpoch` saves the run at every
epoch's end, and `NonFiniteGuard` stops a diverged run before its state is saved. The
guard is passed explicitly to the callbacks that must write nothing of a diverged state
(`CheckpointEveryEpoch` and the periodic observers' `guard=`); nothing is set on the
model.
"""

import os
import warnings

import keras
import numpy as np
import tensorflow as tf


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

    def __init__(
        self,
        manager: tf.train.CheckpointManager,
        step: tf.Variable | keras.Variable,
        guard: "NonFiniteGuard | None" = None,
    ):
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

    def __init__(self, last_step: int, steps_per_epoch: int, initial_step: int | None = None):
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
    `reason` then says why (None while training is sound); a warning names the last
    checkpoint, from which training can resume, e.g. with lower learning rates. Give the
    guard to `CheckpointEveryEpoch` (listed after it) so that no checkpoint of the
    diverged state replaces that one, and as `guard=` to the periodic callbacks
    (`SampleGrid`, `MetricEvaluator`, `OverfittingMonitor`, `NearestNeighbourReport`) so
    that they write no final samples or reports of the diverged state.

    Args:
        max_nonfinite_steps: consecutive skipped steps tolerated.
        checkpoint_dir: where checkpoints are written (a `tf.train.CheckpointManager`
            directory or a `keras.callbacks.BackupAndRestore` backup_dir), or None.
        max_abs_weight: the largest weight magnitude of sound training (Adam moves a
            weight by about its learning rate per step, so a sane run stays far below
            the default), or None to not check.
        warn: warn when stopping (False when the caller reports the stop itself).
    """

    def __init__(
        self,
        max_nonfinite_steps: int = 10,
        checkpoint_dir: str | None = None,
        max_abs_weight: float | None = 1e6,
        warn: bool = True,
    ):
        super().__init__()
        self.max_nonfinite_steps = int(max_nonfinite_steps)
        self.checkpoint_dir = checkpoint_dir
        self.max_abs_weight = max_abs_weight
        self.warn = warn
        self.reason: str | None = None

    def on_train_begin(self, logs=None):
        self.reason = None

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
        self.reason = reason
        if not self.warn:
            return
        warnings.warn(
            f"Training stopped, it diverged: {reason}. Last good checkpoint: "
            f"{self.last_checkpoint()}. Check the data and lower the learning rates "
            "before resuming.",
            RuntimeWarning,
            stacklevel=2,
        )

    def last_checkpoint(self) -> str:
        """The newest checkpoint in `checkpoint_dir`, or a sentence saying there is none."""
        if self.checkpoint_dir is None:
            return "none (no checkpoint_dir given)"
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        backup = os.path.join(self.checkpoint_dir, "latest.weights.h5")
        if latest is None and os.path.exists(backup):
            latest = backup
        return latest or f"none found in {self.checkpoint_dir}"
