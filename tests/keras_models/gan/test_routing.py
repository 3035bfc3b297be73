"""GAN augmentation routing: which inputs of D are augmented, in which step, with
which labels, and in how many D calls."""

import keras
import numpy as np
import pytest

from keras_models.gan import GAN
from tests.helpers.toy_gan import (
    BATCH,
    LATENT_DIM,
    NUM_CLASSES,
    Recording,
    Shift,
    compile_gan,
    dataset,
    make_discriminator,
    make_gan,
    make_generator,
    real_batch,
    state,
)


class Spy(keras.layers.Layer):
    """An `augment` layer that records which images it sees and in which step."""

    def __init__(self, reals):
        super().__init__()
        self.reals, self.seen, self.gan = reals, [], lambda: None

    def call(self, images, training=None):
        gan = self.gan()
        # The D optimizer has made one more update than the G optimizer during the G step.
        d_ahead = int(gan.d_optimizer.iterations) - int(gan.g_optimizer.iterations)
        kind = "real" if np.array_equal(np.asarray(images), self.reals) else "fake"
        self.seen.append((kind, "G" if d_ahead else "D"))
        return images


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("diffaugment", [("real", "D"), ("fake", "D"), ("fake", "G")]),
        ("discriminator_only", [("real", "D"), ("fake", "D")]),
        ("reals_only", [("real", "D")]),
        ("none", []),
    ],
)
def test_augmentation_is_applied_where_the_mode_says(mode, expected):
    reals = real_batch()
    spy = Spy(reals)
    gan = make_gan(augment=spy, augment_mode=mode)
    spy.gan = lambda: gan
    compile_gan(gan, run_eagerly=True)
    gan.fit(dataset(reals), epochs=1, steps_per_epoch=2, verbose=0)
    assert spy.seen == expected * 2


def test_evaluate_neither_augments_nor_updates():
    reals = real_batch()
    spy = Spy(reals)
    gan = compile_gan(make_gan(augment=spy))
    before = state(gan)
    logs = gan.evaluate(dataset(reals), steps=2, verbose=0, return_dict=True)
    assert spy.seen == []
    assert {"d_loss", "g_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"} <= set(logs)
    for got, want in zip(state(gan), before, strict=True):
        np.testing.assert_array_equal(got, want)


def _recorded_fit(fake_labels, joint=False, **kwargs):
    generator = Recording(make_generator(NUM_CLASSES))
    discriminator = Recording(make_discriminator(NUM_CLASSES), joint)
    gan = make_gan(
        NUM_CLASSES,
        generator=generator,
        discriminator=discriminator,
        augment=Shift(),
        fake_labels=fake_labels,
        ema_decay=None,
        **kwargs,
    )
    # No updates: the logs of both steps then compare scoring, not the D update.
    compile_gan(gan, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), run_eagerly=True)
    generator.calls.clear()
    discriminator.calls.clear()
    reals, labels = real_batch(NUM_CLASSES)
    history = gan.fit(dataset((reals, labels)), epochs=1, steps_per_epoch=1, verbose=0)
    return history.history, generator.calls, discriminator.calls, labels


def test_fake_labels_are_drawn_uniformly_for_every_step_as_the_reference():
    _, g_calls, d_calls, labels = _recorded_fit("random")
    (d_step_g, g_step_g), (d_fakes, d_reals, g_fakes) = g_calls, d_calls
    np.testing.assert_array_equal(d_reals[1], labels)
    # D scores the fakes with the labels G generated them for, in both steps.
    np.testing.assert_array_equal(d_fakes[1], d_step_g[1])
    np.testing.assert_array_equal(g_fakes[1], g_step_g[1])
    # Fresh uniform draws: neither the reals' labels nor each other.
    assert not np.array_equal(d_step_g[1], labels)
    assert not np.array_equal(g_step_g[1], d_step_g[1])
    assert set(d_step_g[1]) | set(g_step_g[1]) == set(range(NUM_CLASSES))


def test_fake_labels_reals_reuses_the_labels_of_the_reals():
    _, g_calls, d_calls, labels = _recorded_fit("reals")
    for call in g_calls + d_calls:
        np.testing.assert_array_equal(call[1], labels)


def test_joint_discriminator_pass_scores_fakes_and_reals_in_one_call():
    separate, _, separate_calls, _ = _recorded_fit("reals", consistency_weight=1.0)
    joint, _, joint_calls, labels = _recorded_fit("reals", joint=True, consistency_weight=1.0)
    # Separate: fakes, reals, consistency images, then the G step. Joint: one D-step call
    # on the concatenation [fakes, reals, consistency images], then the G step.
    assert [len(c[0]) for c in separate_calls] == [BATCH] * 4
    assert [len(c[0]) for c in joint_calls] == [3 * BATCH, BATCH]
    np.testing.assert_array_equal(joint_calls[0][1], np.concatenate([labels] * 3))
    # The same D weights score the same images: the logs agree.
    for name in ("d_loss", "d_real_logits", "d_fake_logits", "consistency", "g_loss"):
        np.testing.assert_allclose(joint[name], separate[name], rtol=1e-5, err_msg=name)


def test_backbones_declare_whether_reals_and_fakes_share_a_pass():
    from keras_models import biggan, stylegan2

    assert biggan.Discriminator.joint_discriminator_pass is True  # BigGAN's G_D
    # Minibatch standard deviation must not mix reals and fakes.
    assert getattr(stylegan2.Discriminator, "joint_discriminator_pass", False) is False


def test_mismatched_networks_and_batches_are_named():
    small_d = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    with pytest.raises(ValueError, match=r"generator makes images of shape \(8, 8, 3\)"):
        make_gan(discriminator=small_d)

    class Refusing(keras.Model):  # Keras wraps its error in "Could not ... infer ..."
        def call(self, images):
            raise ValueError("SelfAttention expects C >= 8.")

    with pytest.raises(ValueError, match=r"\(8, 8, 3\); calling .* failed: SelfAttention expects"):
        make_gan(discriminator=Refusing())
    gan = compile_gan(make_gan(d_steps_per_g_step=3))
    with pytest.raises(ValueError, match="batch divisible by d_steps_per_g_step=3.*batch of 8"):
        gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=1, verbose=0)


@pytest.mark.parametrize(
    "argument, message",
    [
        ({"augment_mode": "both"}, r"`augment_mode` must be one of .*'reals_only'.*'both'"),
        ({"r1_inputs": "fakes"}, r"`r1_inputs` must be one of \['augmented', 'reals'\]"),
        ({"fake_labels": "fixed"}, r"`fake_labels` must be one of"),
        ({"r1_interval": 0}, r"`r1_interval` must be an integer >= 1. Received: r1_interval=0"),
        ({"d_steps_per_g_step": 0}, r"`d_steps_per_g_step` must be an integer >= 1"),
        ({"ema_decay": 1.0}, r"`ema_decay` must be in \[0, 1\) or None. Received: 1.0"),
    ],
)
def test_invalid_arguments_are_named_before_anything_is_built(argument, message):
    generator = Recording(make_generator())
    with pytest.raises(ValueError, match=message):
        GAN(generator, make_discriminator(), latent_dim=LATENT_DIM, **argument)
    assert generator.calls == []
