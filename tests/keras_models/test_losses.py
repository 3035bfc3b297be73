"""keras_models.losses against values computed by hand."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models import losses

# Logits chosen to hit every branch: confident, unsure and wrong, on both sides of the
# hinge margins.
REAL = np.array([[2.0], [0.5], [-1.0]], "float32")  # (B, 1) as discriminators return
FAKE = np.array([-2.0, 0.0, 1.5], "float32")  # (B,) is accepted too

# Hand computations, per sample:
#   hinge D: relu(1 - r) + relu(1 + f) = [0 + 0, 0.5 + 1, 2 + 2.5]
#   non-saturating D: softplus(-r) + softplus(f), softplus(x) = log(1 + e^x):
#     [0.126928 + 0.126928, 0.474077 + 0.693147, 1.313262 + 1.701413]
#   non-saturating G: softplus(-f) = [softplus(2), softplus(0), softplus(-1.5)]
#   wasserstein D: f - r
GOLDEN = {
    "hinge": ([0.0, 1.5, 4.5], [2.0, 0.0, -1.5]),
    "non_saturating": ([0.253856, 1.167224, 3.014675], [2.126928, 0.693147, 0.201413]),
    "wasserstein": ([-4.0, -0.5, 2.5], [2.0, 0.0, -1.5]),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_losses_match_hand_computed_values(name):
    d_loss, g_loss = losses.get(name)
    want_d, want_g = GOLDEN[name]
    np.testing.assert_allclose(d_loss(REAL, FAKE).numpy(), want_d, atol=1e-6)
    np.testing.assert_allclose(g_loss(FAKE).numpy(), want_g, atol=1e-6)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_losses_are_float32_per_sample_for_half_precision_logits(name):
    d_loss, g_loss = losses.get(name)
    out = d_loss(tf.constant(REAL, tf.float16), tf.constant(FAKE, tf.float16))
    assert out.dtype == tf.float32 and out.shape == (3,)
    assert g_loss(tf.constant(FAKE[:, None], tf.float16)).shape == (3,)


def test_non_saturating_is_the_binary_cross_entropy_of_the_original_gan():
    bce = keras.losses.BinaryCrossentropy(from_logits=True, reduction=None)
    real, fake = REAL[:, 0], FAKE
    expected_d = bce(np.ones((3, 1)), real[:, None]) + bce(np.zeros((3, 1)), fake[:, None])
    expected_g = bce(np.ones((3, 1)), fake[:, None])
    np.testing.assert_allclose(
        losses.non_saturating_discriminator(REAL, FAKE), expected_d, rtol=1e-5
    )
    np.testing.assert_allclose(losses.non_saturating_generator(FAKE), expected_g, rtol=1e-5)


def test_unknown_loss_names_the_valid_ones():
    with pytest.raises(
        ValueError, match="hinge.*non_saturating.*wasserstein.*Received: loss='lsgan'"
    ):
        losses.get("lsgan")


def test_r1_penalty_is_the_squared_norm_per_sample():
    gradients = np.zeros((2, 2, 2, 1), "float32")
    gradients[0, 0, 0, 0], gradients[0, 1, 1, 0] = 3.0, 4.0  # |g| = 5
    gradients[1] = -0.5  # four entries: 4 * 0.25
    np.testing.assert_allclose(losses.r1_penalty(gradients).numpy(), [25.0, 1.0])


def test_consistency_penalty_is_the_squared_logit_difference():
    np.testing.assert_allclose(
        losses.consistency_penalty(REAL, REAL[:, 0] + [1.0, -2.0, 0.0]).numpy(), [1.0, 4.0, 0.0]
    )
