"""GAN non-finite guard: a skipped update changes no variable, and is counted."""

import numpy as np
import pytest
import tensorflow as tf

from keras_models.callbacks import NonFiniteGuard
from tests.helpers import toy_gan


def test_nonfinite_steps_change_no_variable_and_are_counted():
    # Batch norm in G and D: the forward passes of a skipped step update their moving
    # statistics (and the regulariser its count), which must be put back as well.
    gan = toy_gan.compile_gan(
        toy_gan.make_gan(
            generator=toy_gan.make_generator(batch_norm=True),
            discriminator=toy_gan.make_discriminator(batch_norm=True),
            g_regularizer=toy_gan.CountingRegularizer(value=np.nan),
        )
    )
    reals = toy_gan.real_batch()
    reals[0, 0, 0, 0] = np.nan  # a NaN real makes the D loss NaN
    before = toy_gan.state(gan)
    history = gan.fit(toy_gan.dataset(reals), epochs=1, steps_per_epoch=2, verbose=0)
    for got, want in zip(toy_gan.state(gan), before, strict=True):
        np.testing.assert_array_equal(got, want)
    assert float(gan.g_regularizer.calls) == 0.0
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 0
    assert history.history["nonfinite_steps"] == [2.0]
    assert int(gan.nonfinite_streak) == 2
    assert np.isfinite(history.history["d_loss"][0])  # skipped steps are not averaged in


def test_nonfinite_guard_stops_training_and_names_the_checkpoint(tmp_path):
    gan = toy_gan.compile_gan(toy_gan.make_gan())
    checkpoint = tf.train.Checkpoint(**gan.checkpoint_items())
    saved = checkpoint.save(str(tmp_path / "ckpt"))
    good = toy_gan.real_batch()
    gan.fit(toy_gan.dataset(good), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(gan.nonfinite_streak) == 0
    bad = np.full_like(good, np.nan)
    with pytest.warns(RuntimeWarning, match=f"3 consecutive.*{saved}"):
        gan.fit(
            toy_gan.dataset(bad),
            epochs=1,
            steps_per_epoch=10,
            verbose=0,
            callbacks=[NonFiniteGuard(3, checkpoint_dir=str(tmp_path))],
        )
    assert int(gan.train_steps) == 1 + 3
