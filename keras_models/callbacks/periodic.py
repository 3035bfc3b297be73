"""The base of the callbacks that look at training every N steps (and once at its end).

Steps count training batches seen by the callback (plus `initial_step` on resume).
TensorBoard summaries go to `log_dir` (read with `tensorboard --logdir`). A callback
given the run's `NonFiniteGuard` writes no final output once the guard has stopped a
diverged run, so that no samples or reports show the diverged state.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_models.callbacks.run_control import NonFiniteGuard


class PeriodicCallback(keras.callbacks.Callback):
    """Runs `run(step)` every `every_n_steps` training batches (and at the end of training).

    Subclasses that measure something append `{"step": step, name: value, ...}` records to
    `self.history`; the latest record's numbers also go into the Keras epoch `logs`, so
    that `fit`'s History and other callbacks see them.

    Args:
        every_n_steps: period in training batches, or None (end of training only).
        log_dir: TensorBoard folder, or None.
        initial_step: step count at the start (when resuming).
        at_train_end: also run at the end of training (unless the last step just ran).
        guard: the run's `NonFiniteGuard`, or None: once it has stopped a diverged run,
            the end of training runs nothing.

    Raises:
        ValueError: for `every_n_steps` < 1.
    """

    def __init__(
        self,
        every_n_steps: int | None,
        log_dir: str | None = None,
        initial_step: int = 0,
        at_train_end: bool = True,
        guard: NonFiniteGuard | None = None,
    ):
        super().__init__()
        self.history: list[dict] = []
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"Expected every_n_steps >= 1 or None. Received: {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.log_dir = log_dir
        self.step = initial_step
        self.at_train_end = at_train_end
        self.guard = guard
        self._writer = None
        self._last_run = None

    @property
    def writer(self) -> tf.summary.SummaryWriter | None:
        """The TensorBoard writer of `log_dir` (created on first use), or None."""
        if self._writer is None and self.log_dir:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.every_n_steps and self.step % self.every_n_steps == 0:
            self._last_run = self.step
            self.run(self.step)

    def on_train_end(self, logs=None):
        diverged = self.guard is not None and self.guard.reason is not None
        if self.at_train_end and self._last_run != self.step and not diverged:
            self.run(self.step)
        if self._writer is not None:
            self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.history:
            logs.update(
                {k: v for k, v in self.history[-1].items() if k != "step" and np.isscalar(v)}
            )

    def log_scalars(self, values: dict[str, float], step: int) -> None:
        """Writes `{name: value}` as TensorBoard scalars at `step` (nothing without a
        `log_dir`)."""
        if self.writer is None:
            return
        with self.writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(name, value)

    def run(self, step: int) -> None:
        """What the callback does at `step`; subclasses implement it."""
        raise NotImplementedError
