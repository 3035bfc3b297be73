"""GAN losses as pure functions of discriminator logits.

Every function returns one value per sample (shape (B,)), so that the caller decides how
to reduce: `keras_models.GAN` divides by the global batch with
`tf.nn.compute_average_loss`, which keeps the gradients right under `tf.distribute`.
Logits may have shape (B,) or (B, 1); they are computed in float32. In the functions
below, r = D(x) are the logits on reals (`real_logits`) and f = D(G(z)) those on fakes
(`fake_logits`); each returns a float32 (B,) tensor.

| loss             | discriminator, per sample               | generator, per sample |
|------------------|-----------------------------------------|-----------------------|
| `hinge`          | relu(1 - D(x)) + relu(1 + D(G(z)))      | -D(G(z))              |
| `non_saturating` | softplus(-D(x)) + softplus(D(G(z)))     | softplus(-D(G(z)))    |
| `wasserstein`    | D(G(z)) - D(x)                          | -D(G(z))              |

`softplus(-t) = -log(sigmoid(t))`: the non-saturating loss is the cross-entropy of the
original GAN written on logits (Goodfellow et al., 2014).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

DiscriminatorLoss = Callable[[Any, Any], tf.Tensor]
GeneratorLoss = Callable[[Any], tf.Tensor]


def _logits(logits):
    """(B,) or (B, 1) logits as a float32 (B,) tensor."""
    logits = tf.cast(logits, tf.float32)
    return tf.reshape(logits, [tf.shape(logits)[0]])


def hinge_discriminator(real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """Hinge loss of D (Lim & Ye, 2017; SAGAN, BigGAN): relu(1 - r) + relu(1 + f)."""
    return tf.nn.relu(1.0 - _logits(real_logits)) + tf.nn.relu(1.0 + _logits(fake_logits))


def hinge_generator(fake_logits: Any) -> tf.Tensor:
    """Hinge loss of G: -f."""
    return -_logits(fake_logits)


def non_saturating_discriminator(real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """Logistic loss of D: softplus(-r) + softplus(f) (StyleGAN2, DCGAN)."""
    return tf.nn.softplus(-_logits(real_logits)) + tf.nn.softplus(_logits(fake_logits))


def non_saturating_generator(fake_logits: Any) -> tf.Tensor:
    """Non-saturating loss of G: softplus(-f) = -log(sigmoid(f))."""
    return tf.nn.softplus(-_logits(fake_logits))


def wasserstein_discriminator(real_logits: Any, fake_logits: Any) -> tf.Tensor:
    """Wasserstein critic loss (Arjovsky et al., 2017): f - r."""
    return _logits(fake_logits) - _logits(real_logits)


def wasserstein_generator(fake_logits: Any) -> tf.Tensor:
    """Wasserstein generator loss: -f."""
    return -_logits(fake_logits)


LOSSES: dict[str, tuple[DiscriminatorLoss, GeneratorLoss]] = {
    "hinge": (hinge_discriminator, hinge_generator),
    "non_saturating": (non_saturating_discriminator, non_saturating_generator),
    "wasserstein": (wasserstein_discriminator, wasserstein_generator),
}


def get(name: str) -> tuple[DiscriminatorLoss, GeneratorLoss]:
    """The `(discriminator_loss, generator_loss)` pair named `name`.

    Args:
        name: "hinge", "non_saturating" or "wasserstein".

    Returns:
        Two functions of logits, each returning per-sample float32 (B,) losses.

    Raises:
        ValueError: for a name not in `LOSSES`.
    """
    if name not in LOSSES:
        raise ValueError(f"`loss` must be one of {sorted(LOSSES)}. Received: loss={name!r}")
    return LOSSES[name]


def r1_penalty(real_gradients: Any) -> tf.Tensor:
    """Squared L2 norm per sample of dD(x)/dx (Mescheder et al., 2018).

    The R1 regulariser is `gamma / 2 * r1_penalty(...)`; the weighting is the caller's.

    Args:
        real_gradients: gradients of the summed real logits with respect to the images
            D saw, shape (B, H, W, C) (any rank >= 2).

    Returns:
        float32 (B,) tensor.
    """
    gradients = tf.cast(real_gradients, tf.float32)
    return tf.reduce_sum(tf.square(gradients), axis=tf.range(1, tf.rank(gradients)))


def consistency_penalty(logits: Any, augmented_logits: Any) -> tf.Tensor:
    """Consistency regularisation (Zhang et al., 2020, CR-GAN): ||D(x) - D(T(x))||^2.

    Args:
        logits: D's logits on the images, (B,) or (B, 1).
        augmented_logits: D's logits on the augmented images, same shape.

    Returns:
        float32 (B,) tensor.
    """
    return tf.square(_logits(logits) - _logits(augmented_logits))
