"""Training progress from the first second: the build time, then a bar or plain lines.

Tracing (and XLA-compiling) a GAN's train step can take minutes on a CPU before the first
step is done, and nothing in Keras says so. `TrainingProgress` says it, times it, then
shows the whole run's progress: a `keras.utils.Progbar` on a terminal, one plain line
every N steps and at every epoch end elsewhere (log files, CI).

```python
gan.fit(
    ds,
    epochs=10,
    steps_per_epoch=500,
    verbose=0,  # Keras's own bar would duplicate this one
    callbacks=[TrainingProgress(images_per_step=64 * gan.d_steps_per_g_step)],
)
```
"""

import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

import keras
import numpy as np


def format_duration(seconds: float) -> str:
    """Seconds as `1h02m`, `4m05s` or `37s` (rounded down to the shown unit)."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}h{rest // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class _RunProgbar(keras.utils.Progbar):
    """A Progbar whose ETA and time per step come from the run's post-build rate.

    Progbar times itself from its own construction and only drops step 1, which is
    wrong for a resumed run (its first step is not 1) and for a bar made before the
    build; `_estimate_step_duration` is the one place Progbar reads its timing from.
    """

    def __init__(self, target, seconds_per_step):
        super().__init__(target, stateless_metrics=())  # the GAN's logs are running means
        self._seconds_per_step = seconds_per_step

    def _estimate_step_duration(self, current, now):
        return self._seconds_per_step() or 0.0


class TrainingProgress(keras.callbacks.Callback):
    """Says the train step is being built, how long that took, then the run's progress.

    At `on_train_begin` it prints that the train step is being built, and after the
    first batch how long the build (and that first step) took. Then, when `interactive`,
    a `keras.utils.Progbar` over the whole run (its target is the run's total steps, not
    the epoch's) with images/s, kimg done and the ETA; otherwise a line every
    `every_n_steps` steps and at every epoch end (where `train.py` checkpoints), e.g.
    `step 1200/25000 (4.8%)  kimg 240.0/5000.0  12.3 img/s  d_loss 1.23 g_loss 0.45  ETA 1h02m`.
    Rates and ETAs leave out the build step, so they hold from the second step on.

    Steps count the whole run: they start at `initial_step` (a resumed run) and step
    `s` has shown D `s * images_per_step` real images. Pass `verbose=0` to `fit` so
    that Keras's own progress bar does not duplicate this one.

    Args:
        images_per_step: real images D sees per train step, over all replicas: the
            global batch (`TrainConfig.images_per_step` for a `GAN` batched so).
        total_steps: the run's total steps, or None for `epochs * steps_per_epoch` of
            `fit` (unknown, with no ETA, when `fit` does not know its steps per epoch).
        initial_step: the step the run starts at, or None for the model's
            `train_steps` (0 for models without one).
        every_n_steps: steps between plain lines (they also come at every epoch end).
        metrics: names of the logs to show, in this order, or None for every scalar
            log (in the order of the logs).
        stream: where to write; defaults to `sys.stdout`.
        interactive: whether to draw a bar; defaults to `stream.isatty()`.
        clock: a monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        images_per_step: int,
        total_steps: int | None = None,
        initial_step: int | None = None,
        every_n_steps: int = 100,
        metrics: Sequence[str] | None = None,
        stream: TextIO | None = None,
        interactive: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__()
        if images_per_step < 1:
            raise ValueError(f"Expected images_per_step >= 1. Received: {images_per_step}")
        if every_n_steps < 1:
            raise ValueError(f"Expected every_n_steps >= 1. Received: {every_n_steps}")
        self.images_per_step = images_per_step
        self.every_n_steps = every_n_steps
        self.metrics = None if metrics is None else tuple(metrics)
        self.stream = sys.stdout if stream is None else stream
        if interactive is None:
            interactive = getattr(self.stream, "isatty", lambda: False)()
        self.interactive = bool(interactive)
        self.clock = clock
        self._total_steps, self._initial_step = total_steps, initial_step
        self.total_steps = self.step = None
        self.progbar = None

    def on_train_begin(self, logs=None):
        self.step = self._initial_step
        if self.step is None:
            self.step = int(getattr(self.model, "train_steps", 0))
        self.total_steps = self._total_steps
        steps_per_epoch = self.params.get("steps") if self.params else None
        if self.total_steps is None and steps_per_epoch:
            self.total_steps = self.params["epochs"] * steps_per_epoch
        if self.total_steps is not None and self.step > self.total_steps:
            raise ValueError(
                f"Expected initial_step <= total_steps. Received: initial_step={self.step}, "
                f"total_steps={self.total_steps}"
            )
        self._epoch_start = self.step
        self._built_at = self._built_step = self._last_line = None
        self._bar_done = False
        self._logs = {}
        if self.interactive:
            self.progbar = _RunProgbar(self.total_steps, self.seconds_per_step)
        self._print("Building the train step (tracing, XLA compile if enabled)...")
        self._began = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self.step

    def on_train_batch_end(self, batch, logs=None):
        # Keras passes the epoch's last finished batch (several with steps_per_execution).
        self.step = self._epoch_start + batch + 1
        self._logs = self._scalars(logs)
        if self._built_at is None:
            self._built_at, self._built_step = self.clock(), self.step
            seconds = self._built_at - self._began
            self._print(f"Train step built in {seconds:.1f} s; first step done.")
            return  # no rate yet: it excludes this step
        if self.interactive:
            self._update_bar()
        elif self.step % self.every_n_steps == 0:
            self._print_line()

    def on_epoch_end(self, epoch, logs=None):
        if not self.interactive and self._last_line != self.step:
            self._print_line()

    def on_train_end(self, logs=None):
        if self.progbar is not None and not self._bar_done:
            self._update_bar(finalize=True)  # ends the bar's line when stopped early

    def seconds_per_step(self) -> float | None:
        """Seconds per step after the build step, or None before a second step."""
        if self._built_at is None or self.step == self._built_step:
            return None
        return (self.clock() - self._built_at) / (self.step - self._built_step)

    def _scalars(self, logs):
        logs = logs or {}
        names = logs if self.metrics is None else [n for n in self.metrics if n in logs]
        values = {name: np.asarray(logs[name]) for name in names}
        return {name: float(v.reshape(())) for name, v in values.items() if v.size == 1}

    def _update_bar(self, finalize=None):
        kimg = self.step * self.images_per_step / 1000
        values = [(self._kimg_name(), kimg), *self._logs.items()]
        seconds = self.seconds_per_step()
        if seconds:
            values.insert(0, ("img/s", self.images_per_step / seconds))
        total = self.total_steps
        self._bar_done = finalize or (total is not None and self.step >= total)
        with contextlib.redirect_stdout(self.stream):  # Progbar writes to sys.stdout
            self.progbar.update(self.step, values, finalize=finalize)

    def _kimg_name(self):
        if self.total_steps is None:
            return "kimg"
        return f"kimg of {self.total_steps * self.images_per_step / 1000:g}"

    def _print_line(self):
        self._last_line = self.step
        kimg = self.step * self.images_per_step / 1000
        if self.total_steps is None:
            parts = [f"step {self.step}", f"kimg {kimg:.1f}"]
        else:
            total_kimg = self.total_steps * self.images_per_step / 1000
            percent = 100 * self.step / max(self.total_steps, 1)
            parts = [
                f"step {self.step}/{self.total_steps} ({percent:.1f}%)",
                f"kimg {kimg:.1f}/{total_kimg:.1f}",
            ]
        seconds = self.seconds_per_step()
        if seconds:
            parts.append(f"{self.images_per_step / seconds:.1f} img/s")
        if self._logs:
            parts.append(" ".join(f"{name} {value:.4g}" for name, value in self._logs.items()))
        if seconds and self.total_steps is not None:
            parts.append(f"ETA {format_duration(seconds * (self.total_steps - self.step))}")
        self._print("  ".join(parts))

    def _print(self, text):
        print(text, file=self.stream, flush=True)
