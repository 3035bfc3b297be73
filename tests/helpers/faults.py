"""train.py with a fault injected at an exact point: a signal at the start of a step, or
SIGKILL in the middle of writing a checkpoint.

    python -m tests.helpers.faults FAULT train.py-arguments...

FAULT is `SIGNAL@STEP` (SIGTERM, SIGINT or SIGKILL sent to this process as training step
STEP begins, so SIGKILL lands mid-step) or `SIGKILL@checkpoint` (killed after a
checkpoint's data files are written and before the index names it, the last moment of
TensorFlow's save protocol).
"""

import os
import signal
import sys

import keras

from keras_models.cli import main

SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT, "SIGKILL": signal.SIGKILL}


class SignalAtStep(keras.callbacks.Callback):
    """Sends `signum` to this thread when the run's step `step` begins: `raise_signal`
    runs the Python handler before it returns, so two of them in a row are two signals
    (`os.kill` may deliver to another of TensorFlow's threads, and a second signal sent
    before the first is handled merges with it)."""

    def __init__(self, signum, step):
        super().__init__()
        self.signum, self.step = signum, step

    def on_train_batch_begin(self, batch, logs=None):
        if int(self.model.train_steps.numpy()) + 1 == self.step:
            signal.raise_signal(self.signum)


def inject(fault):
    name, _, where = fault.partition("@")
    if where == "checkpoint":
        from tensorflow.python.checkpoint import checkpoint_management

        def killed(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        checkpoint_management.update_checkpoint_state_internal = killed
        return
    from keras_models.cli import assembly

    assemble = assembly.run_callbacks

    def with_fault(*args, **kwargs):
        run = assemble(*args, **kwargs)
        run.all.insert(0, SignalAtStep(SIGNALS[name], int(where)))
        return run

    assembly.run_callbacks = with_fault
    from keras_models.cli import training

    training.run_callbacks = with_fault


if __name__ == "__main__":
    inject(sys.argv.pop(1))
    sys.argv[0] = "train.py"
    main.run()
