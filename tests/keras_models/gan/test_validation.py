"""Bad input to the GAN is named before any work: a `ValueError` (or a warning) that says
what was expected and what was received, at construction or at the start of `fit` or
`generate`, never a TensorFlow error late in a step nor a silently wrong result."""

import pytest

from keras_models.gan import GAN
from tests.helpers.toy_gan import (
    LATENT_DIM,
    Recording,
    make_discriminator,
    make_generator,
)


@pytest.mark.parametrize("latent_dim", [-3, 0, True, 8.0, "8"])
def test_latent_dim_must_be_an_int_of_at_least_one(latent_dim):
    generator = Recording(make_generator())
    message = rf"`latent_dim` must be an integer >= 1. Received: latent_dim={latent_dim!r}"
    with pytest.raises(ValueError, match=message):
        GAN(generator, make_discriminator(), latent_dim=latent_dim)
    assert generator.calls == []  # before anything is built


@pytest.mark.parametrize("name", ["r1_interval", "d_steps_per_g_step"])
def test_integer_arguments_are_not_truncated(name):
    message = rf"`{name}` must be an integer >= 1. Received: {name}=2.5"
    with pytest.raises(ValueError, match=message):
        GAN(make_generator(), make_discriminator(), latent_dim=LATENT_DIM, **{name: 2.5})
