"""A tiny generator, discriminator and GAN, with data, for tests of the GAN model."""

import keras
import numpy as np
import tensorflow as tf

import tf_diffaug
from keras_models.gan import GAN

LATENT_DIM = 8
SIZE = 8
BATCH = 8
NUM_CLASSES = 3


def make_generator(num_classes=None, batch_norm=False):
    """Tiny DCGAN-style generator: latents (and labels) -> (B, 8, 8, 3) in [-1, 1]."""
    norm = keras.layers.BatchNormalization if batch_norm else lambda: lambda x: x
    latents = keras.Input((LATENT_DIM,))
    inputs, x = [latents], latents
    if num_classes:
        labels = keras.Input((), dtype="int32")
        inputs.append(labels)
        x = keras.layers.Multiply()([x, keras.layers.Embedding(num_classes, LATENT_DIM)(labels)])
    x = norm()(keras.layers.Dense(4 * 4 * 8)(x))
    x = keras.layers.LeakyReLU(0.2)(keras.layers.Reshape((4, 4, 8))(x))
    x = keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same")(x)
    x = keras.layers.LeakyReLU(0.2)(norm()(x))
    images = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", dtype="float32")(x)
    return keras.Model(inputs if num_classes else latents, images, name="generator")


def make_discriminator(num_classes=None, batch_norm=False):
    """Tiny DCGAN-style discriminator (projection for labels): images -> (B, 1) logits."""
    images = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(images)
    x = keras.layers.LeakyReLU(0.2)(keras.layers.BatchNormalization()(x) if batch_norm else x)
    x = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(8, 3, strides=2, padding="same")(x))
    features = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(1)(features)
    if not num_classes:
        return keras.Model(images, logits, name="discriminator")
    labels = keras.Input((), dtype="int32")
    embedded = keras.layers.Embedding(num_classes, features.shape[-1])(labels)
    projection = keras.layers.Dot(axes=1)([features, embedded])
    logits = keras.layers.Add(dtype="float32")([logits, projection])
    return keras.Model([images, labels], logits, name="discriminator")


def make_gan(num_classes=None, weights_seed=0, discriminator=None, generator=None, **kwargs):
    keras.utils.set_random_seed(weights_seed)
    kwargs.setdefault("augment", tf_diffaug.DiffAugment(seed=2))
    return GAN(
        generator or make_generator(num_classes),
        discriminator or make_discriminator(num_classes),
        latent_dim=LATENT_DIM,
        num_classes=num_classes,
        seed=1,
        **kwargs,
    )


def compile_gan(gan, d_optimizer=None, g_optimizer=None, **kwargs):
    gan.compile(
        d_optimizer=d_optimizer or keras.optimizers.Adam(1e-3, 0.0, 0.99),
        g_optimizer=g_optimizer or keras.optimizers.Adam(1e-3, 0.0, 0.99),
        **kwargs,
    )
    return gan


def real_batch(num_classes=None, seed=0, batch=BATCH):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (batch, SIZE, SIZE, 3)).astype("float32")
    if num_classes:
        return images, rng.integers(0, num_classes, batch).astype("int32")
    return images


def dataset(batch_data, batch=BATCH):
    return tf.data.Dataset.from_tensor_slices(batch_data).batch(batch, drop_remainder=True).repeat()


def state(gan):
    """All weights of G, D and the EMA copy, as NumPy arrays."""
    networks = [gan.generator, gan.discriminator, gan.ema_generator]
    return [np.array(w) for net in networks if net is not None for w in net.weights]


class Shift(keras.layers.Layer):
    """A deterministic, differentiable augmentation: replica-count independent by design
    (DiffAugment folds the replica id into its seeds, so its draws differ per replica)."""

    def call(self, images, training=None):
        return keras.ops.roll(images, 1, axis=2) * 0.5 + 0.1


class Recording(keras.Model):
    """Wraps a network and records the inputs of every call (run eagerly)."""

    def __init__(self, network, joint_discriminator_pass=False):
        super().__init__()
        self.network, self.calls = network, []
        self.joint_discriminator_pass = joint_discriminator_pass

    def call(self, inputs, training=None):
        self.calls.append([np.asarray(x) for x in inputs])
        return self.network(inputs, training=training)


class CountingRegularizer(keras.layers.Layer):
    """A stateful G regulariser (like StyleGAN2's path-length moving average): its
    penalty grows with the number of calls, so a resume that loses the count diverges."""

    def __init__(self, value=None):
        super().__init__()
        self.value = value
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def __call__(self, gan, latents, labels, images):
        self.calls.assign_add(1.0)
        penalty = 1e-2 * self.calls * tf.reduce_mean(tf.square(images), axis=[1, 2, 3])
        return penalty if self.value is None else tf.fill(tf.shape(penalty), self.value)


def unroll_d_steps(gan):
    """Makes `gan` run its D steps unrolled where it would loop (graph mode, no merge
    calls), so that tests can compare the two formulations of the same train step."""
    gan._d_steps_in_a_loop = lambda: False
    return gan
