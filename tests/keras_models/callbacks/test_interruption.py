"""SIGINT and SIGTERM during `fit`: the step under way ends, the epoch's end saves it,
and TensorFlow's preemption handler saves a step of its own choosing."""

import os
import signal

import pytest
import tensorflow as tf

from keras_models import callbacks
from tests.helpers.faults import SignalAtStep
from tests.helpers.toy_gan import compile_gan, dataset, make_gan, real_batch


class Ending(callbacks.PeriodicCallback):
    """Records the steps it runs at."""

    def __init__(self):
        super().__init__(every_n_steps=None)
        self.ran = []

    def run(self, step):
        self.ran.append(step)


def fit_ten_steps(gan, callbacks_):
    gan.fit(
        dataset(real_batch()),
        epochs=1,
        steps_per_epoch=10,
        verbose=0,
        shuffle=False,
        callbacks=callbacks_,
    )


def checkpointed_gan(tmp_path):
    gan = compile_gan(make_gan())
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(**gan.checkpoint_items()), str(tmp_path), max_to_keep=5
    )
    return gan, manager


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_fit_after_its_step_which_the_epoch_end_saves(tmp_path, signum, capsys):
    gan, manager = checkpointed_gan(tmp_path)
    ending = Ending()
    stop = callbacks.StopOnSignal(skip_at_end=[ending])
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    fit_ten_steps(
        gan,
        [
            SignalAtStep(signum, 3),
            stop,
            ending,
            callbacks.CheckpointEveryEpoch(manager, gan.train_steps),
        ],
    )
    assert stop.received == signum and int(gan.train_steps.numpy()) == 3
    assert os.path.basename(manager.latest_checkpoint) == "ckpt-3"
    assert ending.ran == []  # a stopped run has no time for end-of-training outputs
    assert {s: signal.getsignal(s) for s in before} == before  # restored after fit
    assert f"Received {signum.name}: stopping after this step" in capsys.readouterr().err


def test_a_second_signal_acts_at_once(tmp_path):
    gan, _ = checkpointed_gan(tmp_path)
    stop = callbacks.StopOnSignal()
    # Python's own SIGINT handler, whatever an earlier test in this worker left there.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):  # the handler before fit, restored
            twice = [SignalAtStep(signal.SIGINT, 2), SignalAtStep(signal.SIGINT, 2)]
            fit_ten_steps(gan, [*twice, stop])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stop.received == signal.SIGINT


def test_the_preemption_handler_saves_its_step_and_ends_fit(tmp_path):
    gan, manager = checkpointed_gan(tmp_path)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        save = callbacks.SaveOnPreemption(None, manager, gan.train_steps)
        with pytest.raises(callbacks.Preempted):
            fit_ten_steps(gan, [SignalAtStep(signal.SIGTERM, 3), save])
    finally:
        signal.signal(signal.SIGTERM, previous)  # the handler installs its own for good
    # The handler saves after the step following the signal, as it would for workers
    # that must agree on it.
    step = int(gan.train_steps.numpy())
    assert step == 4 and os.path.basename(manager.latest_checkpoint) == f"ckpt-{step}"
