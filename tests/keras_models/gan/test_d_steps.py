"""GAN D steps per G step: the batch split, and the D steps in a loop or unrolled."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers.toy_gan import (
    BATCH,
    NUM_CLASSES,
    Recording,
    compile_gan,
    dataset,
    make_discriminator,
    make_gan,
    real_batch,
    state,
    unroll_d_steps,
)


@pytest.mark.parametrize("loop", [True, False])
def test_d_steps_per_g_step_splits_the_batch_between_discriminator_updates(loop):
    discriminator = Recording(make_discriminator(NUM_CLASSES))
    gan = make_gan(
        NUM_CLASSES,
        discriminator=discriminator,
        d_steps_per_g_step=2,
        fake_labels="reals",
        augment_mode="none",  # D sees the reals as they are
    )
    if not loop:
        unroll_d_steps(gan)
    compile_gan(gan, run_eagerly=True)
    discriminator.calls.clear()
    images, labels = real_batch(NUM_CLASSES)
    gan.fit(dataset((images, labels)), epochs=1, steps_per_epoch=3, verbose=0)
    assert int(gan.d_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 3
    # Per train step: (fakes, reals) for each D step, then the G step's fakes. Each D step
    # sees its own half of the batch, in order, with its labels; G uses the last half's.
    calls = discriminator.calls[:5]
    half = BATCH // 2
    for step, (fakes, reals) in enumerate([calls[0:2], calls[2:4]]):
        np.testing.assert_array_equal(reals[0], images[step * half : (step + 1) * half])
        np.testing.assert_array_equal(reals[1], labels[step * half : (step + 1) * half])
        assert len(fakes[0]) == half
    np.testing.assert_array_equal(calls[4][1], labels[half:])


def _fit_d_steps(loop, d_steps=4, jit_compile=False, steps=2):
    gan = make_gan(
        NUM_CLASSES, d_steps_per_g_step=d_steps, r1_gamma=1.0, r1_interval=2, ema_decay=0.9
    )
    if not loop:
        unroll_d_steps(gan)
    # SGD: Adam's first steps are +-lr wherever a gradient is float noise, which would
    # turn the loop's different (but equally exact) fusion into visible differences.
    compile_gan(gan, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=jit_compile)
    data = dataset(real_batch(NUM_CLASSES, batch=BATCH * d_steps), batch=BATCH * d_steps)
    history = gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return gan, history.history


def _train_graph_size(gan):
    """Ops in the traced train step, its nested functions (loop bodies) included."""
    batch = next(iter(dataset(real_batch(NUM_CLASSES, batch=BATCH * gan.d_steps_per_g_step))))
    graph = tf.function(gan.train_step).get_concrete_function(batch).graph
    nested = sum(len(f.node_def) for f in graph.as_graph_def().library.function)
    return len(graph.get_operations()) + nested


def test_d_steps_in_a_loop_equal_the_unrolled_steps():
    looped, looped_logs = _fit_d_steps(True)
    unrolled, unrolled_logs = _fit_d_steps(False)
    # Equal up to float reassociation: Grappler optimises the loop body on its own.
    for name in unrolled_logs:
        np.testing.assert_allclose(looped_logs[name], unrolled_logs[name], rtol=1e-5, atol=1e-7)
    assert int(looped.d_optimizer.iterations) == 8 and int(looped.g_optimizer.iterations) == 2
    for got, want in zip(state(looped), state(unrolled), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert looped._d_steps_in_a_loop() and not unrolled._d_steps_in_a_loop()


def test_d_steps_are_unrolled_under_xla():
    # XLA's CPU backend ran the loop about 70x slower than the unrolled steps.
    gan, _ = _fit_d_steps(True, jit_compile=True, steps=1)
    assert gan.jit_compile and not gan._d_steps_in_a_loop()


@pytest.mark.slow  # traces the step twice at four D steps
def test_the_traced_train_step_does_not_grow_with_the_d_steps():
    one, four = (_train_graph_size(_fit_d_steps(True, d_steps)[0]) for d_steps in (1, 4))
    unrolled = _train_graph_size(_fit_d_steps(False, 4)[0])
    assert four < 1.3 * one < unrolled


# XLA unrolls the D steps (loop=False); the loop under XLA only in `make test-all`.
@pytest.mark.parametrize("loop", [pytest.param(True, marks=pytest.mark.slow), False])
def test_random_streams_advance_under_xla_with_lazy_r1(loop):
    # Regression: with the augmentation inside the lazy-R1 `tf.cond`, XLA dropped the
    # seed updates of a conditional GAN, so every step reused the same draws.
    gan = make_gan(NUM_CLASSES, d_steps_per_g_step=2, r1_gamma=1.0, r1_interval=2)
    if not loop:
        unroll_d_steps(gan)
    compile_gan(gan, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=True)
    data = dataset(real_batch(NUM_CLASSES, batch=2 * BATCH), batch=2 * BATCH)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    # Per train step: latents and labels for 2 D steps and the G step (6 draws); the
    # augmentation for reals and fakes of 2 D steps and the G step's fakes (5 draws).
    assert int(gan.seed_generator.state[1]) == 2 * 6
    assert int(gan.augment.seed_generator.state[1]) == 2 * 5
