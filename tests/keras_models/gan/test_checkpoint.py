"""GAN checkpoint state: exact resume through TensorFlow checkpoints and Keras weight
files, also under XLA."""

import os
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers.toy_gan import (
    NUM_CLASSES,
    CountingRegularizer,
    compile_gan,
    dataset,
    make_gan,
    make_generator,
    real_batch,
    state,
)


def test_jit_compiled_step_is_reproducible():
    # XLA draws other random numbers than the TF kernels for the same seeds, so XLA is
    # compared with itself: restoring the checkpointed state (seeds included) and running
    # the same compiled steps again must give the same weights, through the lazy-R1
    # `tf.cond` and the non-finite guard.
    gan = compile_gan(make_gan(r1_gamma=1.0, r1_interval=2, ema_decay=0.9), jit_compile=True)
    checkpoint = tf.train.Checkpoint(**gan.checkpoint_items())
    start = checkpoint.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
    runs = []
    for _ in range(2):
        checkpoint.restore(start)
        history = gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=2, verbose=0)
        runs.append((history.history, state(gan)))
    assert gan.jit_compile
    assert runs[0][0] == runs[1][0]
    assert all(np.isfinite(v[0]) for v in runs[0][0].values()) and runs[0][0]["r1"][0] > 0
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("via", ["tf_checkpoint", "keras_weights"])
def test_resume_is_exact(tmp_path, via):
    data = dataset(real_batch(NUM_CLASSES))

    def new_gan(weights_seed):
        return compile_gan(
            make_gan(
                NUM_CLASSES,
                weights_seed,
                r1_gamma=1.0,
                ema_decay=0.9,
                generator=make_generator(NUM_CLASSES, batch_norm=True),
                g_regularizer=CountingRegularizer(),
            )
        )

    gan = new_gan(0)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    path = str(tmp_path / "ckpt")
    if via == "tf_checkpoint":
        path = tf.train.Checkpoint(**gan.checkpoint_items()).write(path)
    else:  # what keras.callbacks.BackupAndRestore writes and reads
        path += ".weights.h5"
        gan.save_weights(path)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    expected = state(gan)

    resumed = new_gan(7)  # different initial weights and seeds: all must come from the file
    if via == "tf_checkpoint":
        tf.train.Checkpoint(**resumed.checkpoint_items()).read(path).assert_consumed()
    else:
        resumed.load_weights(path)
    resumed.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    for got, want in zip(state(resumed), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert int(resumed.train_steps) == 4
    assert float(resumed.g_regularizer.calls) == float(gan.g_regularizer.calls) == 4.0


class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_exactly(tmp_path):
    data = dataset(real_batch(NUM_CLASSES))

    def new_gan(weights_seed):
        return compile_gan(make_gan(NUM_CLASSES, weights_seed, r1_gamma=1.0, ema_decay=0.9))

    gan = new_gan(0)
    gan.fit(data, epochs=2, steps_per_epoch=2, verbose=0)
    expected = state(gan)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(KeyboardInterrupt):  # interrupted after the first epoch's backup
        new_gan(0).fit(
            data, epochs=2, steps_per_epoch=2, verbose=0, callbacks=[backup, Interrupt()]
        )
    resumed = new_gan(7)
    resumed.fit(data, epochs=2, steps_per_epoch=2, verbose=0, callbacks=[backup])
    for got, want in zip(state(resumed), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_path_length_average_is_checkpointed():
    from keras_models.stylegan2 import PathLengthRegularizer

    regularizer = PathLengthRegularizer(interval=2, batch_shrink=3)
    gan = compile_gan(make_gan(g_regularizer=regularizer))
    assert any(w is regularizer.mean_length for w in gan.checkpoint_items()["other_weights"])
    revived = PathLengthRegularizer.from_config(regularizer.get_config())
    assert (revived.interval, revived.batch_shrink) == (2, 3)
