"""GAN under tf.distribute: two replicas give the step of one, and a non-finite loss on
one replica skips the update on all."""

import keras
import numpy as np
import pytest

from tests.helpers import toy_gan
from tests.helpers.checks import one_replica_strategy, two_replica_strategy


@pytest.fixture(scope="module")
def mirrored():
    # One MirroredStrategy for the module: with a second instance in the same process, a
    # later step failed with mismatched collective instance keys (TF 2.21, CPU).
    return two_replica_strategy()


def _fit_under(strategy, steps=2):
    data = toy_gan.real_batch(toy_gan.NUM_CLASSES)
    with strategy.scope():
        gan = toy_gan.make_gan(
            toy_gan.NUM_CLASSES,
            augment=toy_gan.Shift(),
            r1_gamma=1.0,
            r1_interval=2,  # step 0 with R1, step 1 without: both branches of the cond
            consistency_weight=0.5,
            ema_decay=0.9,
        )
        # SGD, not Adam: Adam's update is invariant to the scale of the gradients, so it
        # would hide a loss divided by the per-replica instead of the global batch.
        toy_gan.compile_gan(gan, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    history = gan.fit(toy_gan.dataset(data), epochs=1, steps_per_epoch=steps, verbose=0)
    return history.history, toy_gan.state(gan)


def test_one_and_two_replicas_give_the_same_step(mirrored):
    logs_1, weights_1 = _fit_under(one_replica_strategy())
    logs_2, weights_2 = _fit_under(mirrored)
    assert sorted(logs_1) == sorted(logs_2)
    for name in logs_1:
        np.testing.assert_allclose(logs_2[name], logs_1[name], rtol=1e-5, atol=1e-6, err_msg=name)
    for w2, w1 in zip(weights_2, weights_1, strict=True):
        np.testing.assert_allclose(w2, w1, rtol=1e-5, atol=1e-6)


def test_a_nonfinite_loss_on_one_replica_skips_the_update_on_all(mirrored):
    strategy = mirrored
    with strategy.scope():
        gan = toy_gan.compile_gan(toy_gan.make_gan(ema_decay=None))
    reals = toy_gan.real_batch()
    reals[0, 0, 0, 0] = np.nan  # only in the first replica's half of the batch
    d_before = [np.array(w) for w in gan.discriminator.weights]
    gan.fit(toy_gan.dataset(reals), epochs=1, steps_per_epoch=1, verbose=0)
    for weight, want in zip(gan.discriminator.weights, d_before, strict=True):
        for copy in strategy.experimental_local_results(weight.value):
            np.testing.assert_array_equal(np.array(copy), want)
    read = keras.ops.convert_to_numpy  # int() does not take a mirrored variable
    assert read(gan.nonfinite_streak) == 1 and read(gan.g_optimizer.iterations) == 1
