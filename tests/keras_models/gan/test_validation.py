"""Bad input to the GAN is named before any work: a `ValueError` (or a warning) that says
what was expected and what was received, at construction or at the start of `fit` or
`generate`, never a TensorFlow error late in a step nor a silently wrong result."""

import re
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models.gan import GAN
from keras_models.gan.validation import check_reals_range
from tests.helpers.checks import one_replica_strategy
from tests.helpers.toy_gan import (
    BATCH,
    LATENT_DIM,
    NUM_CLASSES,
    Recording,
    compile_gan,
    dataset,
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


@pytest.fixture(scope="module")
def conditional_gan():
    """A conditional GAN for the tests that it rejects input (which changes nothing)."""
    return compile_gan(make_gan(NUM_CLASSES))


@pytest.mark.parametrize(
    "labels, received",
    [
        (np.eye(NUM_CLASSES, dtype="float32"), r"labels of shape \(8, 3\) \(one-hot\? pass"),
        (np.eye(NUM_CLASSES, dtype="int32"), r"labels of shape \(8, 3\) \(one-hot\? pass"),
        (np.zeros((BATCH,), "float32"), "labels of dtype float32"),
    ],
    ids=["one_hot", "one_hot_int", "float"],
)
def test_labels_that_are_not_class_ids_are_named_when_traced(conditional_gan, labels, received):
    images, ids = real_batch(NUM_CLASSES)
    labels = labels[ids] if labels.ndim == 2 else labels
    iterations = int(conditional_gan.d_optimizer.iterations)
    message = rf"Expected integer class ids of shape \({BATCH},\). Received: {received}"
    with pytest.raises(ValueError, match=message):
        conditional_gan.fit(dataset((images, labels)), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(conditional_gan.d_optimizer.iterations) == iterations


def test_labels_of_shape_b_1_are_class_ids():
    # keras.datasets' `y` is (N, 1): flattened, as before.
    gan = compile_gan(make_gan(NUM_CLASSES))
    images, labels = real_batch(NUM_CLASSES)
    gan.fit(dataset((images, labels[:, None])), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == 1


@pytest.mark.parametrize("num", [-1, 0, 2.5, "4", True, np.float32(2)])
def test_generate_takes_a_number_of_samples_of_at_least_one(num):
    message = r"Expected num_samples to be an int >= 1, or latents of shape \(B, latent_dim=8\)"
    with pytest.raises(ValueError, match=rf"{message}. Received: {re.escape(repr(num))} of type"):
        make_gan().generate(num)


def test_generate_takes_numpy_ints_and_latents_of_the_latent_dim():
    gan = make_gan()
    assert gan.generate(np.int64(2)).shape == (2, 8, 8, 3)
    assert gan.generate(np.zeros((3, LATENT_DIM), "float64")).shape == (3, 8, 8, 3)
    with pytest.raises(ValueError, match=r"latents of shape \(B, latent_dim=8\). Received: "):
        gan.generate(np.zeros((3, LATENT_DIM + 1), "float32"))


@pytest.mark.parametrize(
    "num, labels, message",
    [
        (2, [7, 7], r"Expected class labels in \[0, num_classes=3\). Received: min=7, max=7."),
        (2, [0, -1], r"Expected class labels in \[0, num_classes=3\). Received: min=-1, max=0."),
        (4, [1], r"Expected integer class ids of shape \(4,\). Received: labels of shape \(1,\)."),
        (4, 1, r"Expected integer class ids of shape \(4,\). Received: labels of shape \(\)."),
        (2, [0.0, 1.0], r"Expected integer class ids of shape \(2,\). Received: labels of dtype"),
    ],
)
def test_generate_checks_its_labels_before_drawing(conditional_gan, num, labels, message):
    gan = conditional_gan
    state = np.array(gan.sample_seed_generator.state)
    with pytest.raises(ValueError, match=message):
        gan.generate(num, labels=labels)
    np.testing.assert_array_equal(gan.sample_seed_generator.state, state)
    assert gan.generate(np.zeros((2, LATENT_DIM)), labels=[2, 0]).shape == (2, 8, 8, 3)


def test_generate_rejects_labels_for_an_unconditional_gan():
    with pytest.raises(ValueError, match=r"only accepted by a conditional GAN.*labels=\[0, 1\]"):
        make_gan().generate(2, labels=[0, 1])


class _Logits(keras.Model):
    """A discriminator that returns ones of `shape` ("B": the batch size), or a list of
    two such tensors."""

    def __init__(self, shape, as_list=False):
        super().__init__()
        self.logits_shape, self.as_list = shape, as_list

    def call(self, images):
        batch = keras.ops.shape(images)[0]
        logits = keras.ops.ones([batch if d == "B" else d for d in self.logits_shape])
        return [logits, logits] if self.as_list else logits


@pytest.mark.parametrize(
    "discriminator, received",
    [
        (_Logits(("B", 5)), r"logits of shape \(1, 5\)"),
        (_Logits(("B", 4, 4, 1)), r"logits of shape \(1, 4, 4, 1\)"),
        (_Logits(()), r"logits of shape \(\)"),
        (_Logits((3,)), r"logits of shape \(3,\) on images of shape \(1, 8, 8, 3\)."),
        (_Logits(("B", 1), as_list=True), "a list."),
    ],
    ids=["classes", "patches", "scalar", "miscounted", "list"],
)
def test_a_discriminator_must_return_one_logit_per_image(discriminator, received):
    expected = r"Expected the discriminator to return logits of shape \(B, 1\) or \(B,\)"
    message = rf"{expected}, one per image. Received: {received}"
    with pytest.raises(ValueError, match=message):
        make_gan(discriminator=discriminator)
    make_gan(discriminator=_Logits(("B",)))  # (B,) logits are one per image too


def _range_warnings(fit):
    """The messages of the warnings about the range of the reals that `fit()` gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if "Expected real images" in str(w.message)]


@pytest.mark.parametrize(
    "scale, received",
    [
        (lambda x: (x + 1) * 127.5, r"min=\d.*, max=2\d\d.* \(it looks like \[0, 255\]\)"),
        (lambda x: (x + 1) / 2, r"min=0.*, max=0.9\d* \(it looks like \[0, 1\]\)"),
    ],
    ids=["0_255", "0_1"],
)
@pytest.mark.parametrize("as_dataset", [True, False], ids=["dataset", "numpy"])
def test_reals_outside_minus_one_one_are_warned_about_once(scale, received, as_dataset):
    gan = compile_gan(make_gan())
    reals = scale(real_batch()).astype("float32")
    data = dataset(reals) if as_dataset else reals
    fit = lambda: gan.fit(data, batch_size=BATCH, epochs=1, steps_per_epoch=1, verbose=0)
    message = (
        rf"Expected real images in \[-1, 1\], the range of the generator's images \(tanh\). "
        rf"Received: a first batch with {received}. .*`images / 127.5 - 1` from \[0, 255\]"
    )
    with pytest.warns(UserWarning, match=message):
        fit()
    assert _range_warnings(fit) == []  # once per model


@pytest.mark.parametrize("as_dataset", [True, False], ids=["dataset", "numpy"])
def test_reals_in_minus_one_one_are_not_warned_about(as_dataset):
    gan = compile_gan(make_gan())
    data = dataset(real_batch()) if as_dataset else real_batch()
    fit = lambda: gan.fit(data, batch_size=BATCH, epochs=1, steps_per_epoch=1, verbose=0)
    assert _range_warnings(fit) == []


def test_the_range_of_reals_that_cannot_be_peeked_is_not_checked():
    strategy = one_replica_strategy()
    with strategy.scope():
        gan = compile_gan(make_gan())
    distributed = strategy.experimental_distribute_dataset(dataset(real_batch() * 127.5))
    fit = lambda gan, data: gan.fit(data, epochs=1, steps_per_epoch=1, verbose=0)
    assert _range_warnings(lambda: fit(gan, distributed)) == []
    # A resumed model (step > 0) was checked when its run started.
    resumed = compile_gan(make_gan())
    resumed.train_steps.assign(10)
    assert _range_warnings(lambda: fit(resumed, dataset(real_batch() * 127.5))) == []


def test_the_range_check_leaves_the_batches_of_a_shuffled_dataset_as_they_are():
    # Peeking at a batch beforehand would advance the shuffle's seed: the batches, and
    # exact resume with them, would change.
    images = np.random.default_rng(0).uniform(0, 255, (64, 2, 2, 3)).astype("float32")
    make = lambda: tf.data.Dataset.from_tensor_slices(images).shuffle(64, seed=1).batch(8)
    expected = [batch.numpy() for batch in make()]
    with pytest.warns(UserWarning, match=r"min=.*\(it looks like \[0, 255\]\)"):
        checked = [batch.numpy() for batch in check_reals_range(make())]
    np.testing.assert_array_equal(np.stack(checked), np.stack(expected))
