"""Callbacks that end a run cleanly when the process is asked to stop.

Cloud schedulers preempt with SIGTERM, and a user stops a run with Ctrl-C (SIGINT).
Either way the run should keep its work: finish the step under way, save a checkpoint,
and stop. `StopOnSignal` does that for one process (the default strategy,
`MirroredStrategy`, `TPUStrategy`): it stops `fit` after the step, and the epoch's end
then saves (`CheckpointEveryEpoch`). Workers of a `MultiWorkerMirroredStrategy` must
agree on the step they save at, which TensorFlow's
`tf.distribute.experimental.PreemptionCheckpointHandler` arranges between them:
`SaveOnPreemption` gives it its chance after every step.

```python
stop = StopOnSignal()
gan.fit(ds, epochs=100, callbacks=[stop, CheckpointEveryEpoch(manager, gan.train_steps)])
if stop.received is not None:
    print(f"stopped by {stop.received.name}; the last checkpoint resumes")
```
"""

import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TextIO

import keras
import tensorflow as tf

from keras_models.callbacks.periodic import PeriodicCallback


class StopOnSignal(keras.callbacks.Callback):
    """Ends `fit` after the current step when the process receives SIGINT or SIGTERM.

    The first signal is acknowledged on `stream` and sets `received`; training stops
    after the step under way, and the epoch's end still runs, so a
    `CheckpointEveryEpoch` saves that step. A second signal acts as it would without
    this callback (Ctrl-C twice stops at once, losing the steps since the last
    checkpoint). The handlers are installed from `on_train_begin` to `on_train_end`
    only, from the main thread (where Python runs signal handlers).

    Args:
        signals: the signals to catch.
        stream: where to acknowledge a signal; defaults to `sys.stderr`.
        skip_at_end: `PeriodicCallback`s whose end-of-training outputs (samples, a
            metric evaluation) are skipped once a signal stops the run: a preempted
            process has seconds, not minutes.

    Attributes:
        received: the signal that stopped training (a `signal.Signals`), or None.
    """

    def __init__(
        self,
        signals: Sequence[signal.Signals] = (signal.SIGINT, signal.SIGTERM),
        stream: TextIO | None = None,
        skip_at_end: Sequence[PeriodicCallback] = (),
    ):
        super().__init__()
        self.signals = tuple(signals)
        self.stream = stream
        self.skip_at_end = tuple(skip_at_end)
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Callable | int | None] = {}

    def on_train_begin(self, logs=None):
        self.received = None
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signal.Signals(signum)
        for caught in self.signals:  # the next signal acts at once
            signal.signal(caught, self._previous[caught])
        for callback in self.skip_at_end:
            callback.at_train_end = False
        print(
            f"Received {self.received.name}: stopping after this step and saving a "
            "checkpoint (send it again to stop at once).",
            file=self.stream or sys.stderr,
            flush=True,
        )

    def on_train_batch_end(self, batch, logs=None):
        if self.received is not None:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


class Preempted(Exception):
    """A worker was preempted; every worker saved a checkpoint at the same step."""


class SaveOnPreemption(keras.callbacks.Callback):
    """Lets TensorFlow's `PreemptionCheckpointHandler` save the run after every step.

    The handler watches for SIGTERM on every worker; once one is signalled, all save a
    checkpoint (numbered by the training step) after the same step, and `fit` ends by
    raising `Preempted`.

    Args:
        cluster_resolver: the strategy's `cluster_resolver`.
        manager: the run's `tf.train.CheckpointManager` (the handler restores its
            latest checkpoint when made, so make this after resuming).
        step: the variable counting training steps (`GAN.train_steps`).
    """

    def __init__(
        self,
        cluster_resolver: tf.distribute.cluster_resolver.ClusterResolver | None,
        manager: tf.train.CheckpointManager,
        step: tf.Variable | keras.Variable,
    ):
        super().__init__()
        self.step = step
        self.handler = tf.distribute.experimental.PreemptionCheckpointHandler(
            cluster_resolver,
            manager,
            termination_config=tf.distribute.experimental.TerminationConfig(
                exit_fn=self._preempted
            ),
        )

    @staticmethod
    def _preempted() -> None:
        raise Preempted("preempted (SIGTERM); every worker saved a checkpoint")

    def on_train_batch_end(self, batch, logs=None):
        self.handler.save_checkpoint_if_preempted(checkpoint_number=int(self.step.numpy()))
