"""Bad input to the GAN is named before any work: a `ValueError` (or a warning) that says
what was expected and what was received, at construction or at the start of `fit` or
`generate`, never a TensorFlow error late in a step nor a silently wrong result."""

import pytest
import tensorflow as tf

from keras_models.gan import GAN
from tests.helpers.toy_gan import (
    LATENT_DIM,
    Recording,
    compile_gan,
    make_discriminator,
    make_gan,
    make_generator,
    real_batch,
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


@pytest.mark.parametrize(
    "batched, received",
    [
        # 19 images: batches of 8, 8 and 3; the last one would fail after two steps.
        (lambda ds: ds.batch(8), r"a dataset whose batch size is unknown \(None\)"),
        (lambda ds: ds.batch(7, drop_remainder=True), "a batch of 7 images"),
    ],
    ids=["without_drop_remainder", "indivisible"],
)
def test_a_dataset_the_d_steps_cannot_split_is_named_before_any_step(batched, received):
    gan = compile_gan(make_gan(d_steps_per_g_step=2))
    data = batched(tf.data.Dataset.from_tensor_slices(real_batch(batch=19)))
    advice = r"batch the dataset by batch_size \* 2 with drop_remainder=True"
    message = rf"divisible by d_steps_per_g_step=2.*{advice}. Received: {received}"
    with pytest.raises(ValueError, match=message):
        gan.fit(data, epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == 0


def test_a_partial_batch_of_unknown_size_is_named_when_reached():
    # NumPy input: Keras leaves the last batch partial (3 of 19 images) and declares no
    # batch size, so the batch is checked when run.
    gan = compile_gan(make_gan(d_steps_per_g_step=2))
    message = r"divisible by d_steps_per_g_step=2.*Received: a batch of\] \[3\]"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        gan.fit(real_batch(batch=19), batch_size=8, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 2
