"""A minimal GAN with DiffAugment on the JAX backend: one stateless, `jax.jit`-compiled step.

DiffAugment's rule: the same augmentation T on real and generated images, in D's step
(D(T(x)), D(T(G(z)))) and in G's step (G learns through D(T(G(z))), T's gradient included).
Under `jax.jit` the layer is called with `stateless_call`, like the models: its only state,
the seed generator's, goes in and comes out. T's probability p follows ADA's controller.

Run: KERAS_BACKEND=jax python docs/examples/gan_jax.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras
import numpy as np
from jax import numpy as jnp
from jax.flatten_util import ravel_pytree
from keras import layers

import tf_diffaug

BATCH, LATENT, STEPS = 32, 16, 12
rng = np.random.default_rng(0)


def squares(n):
    """n 16x16 RGB images in [-1, 1]: a square of a random colour on black."""
    images = -np.ones((n, 16, 16, 3), "float32")
    for image in images:
        (y, x), side = rng.integers(0, 8, 2), rng.integers(4, 9)
        image[y : y + side, x : x + side] = rng.uniform(-1, 1, 3)
    return images


generator = keras.Sequential([
    keras.Input((LATENT,)),
    layers.Dense(4 * 4 * 32), layers.LeakyReLU(0.2), layers.Reshape((4, 4, 32)),
    layers.Conv2DTranspose(32, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
    layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh"),
])  # fmt: skip
discriminator = keras.Sequential([
    keras.Input((16, 16, 3)),
    layers.Conv2D(32, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
    layers.Conv2D(64, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
    layers.Flatten(), layers.Dense(1),
])  # fmt: skip
augment = tf_diffaug.DiffAugment("color,translation,cutout")
g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
g_opt.build(generator.trainable_variables)
d_opt.build(discriminator.trainable_variables)
# Neither model has non-trainable variables (no batch norm): `[]` below. A model with some
# would thread them through like `aug`, T's seed state.


def d_of_t(d_vars, aug, images, p):
    """D(T(images)) and T's next seed state: both steps score reals and fakes this way."""
    images, aug = augment.stateless_call([], aug, images, training=True, probability=p)
    logits, _ = discriminator.stateless_call(d_vars, [], images, training=True)
    return logits, aug


def d_loss_fn(d_vars, aug, reals, fakes, p):  # non-saturating loss
    real_logits, aug = d_of_t(d_vars, aug, reals, p)
    fake_logits, aug = d_of_t(d_vars, aug, fakes, p)
    loss = jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))
    return loss, (aug, real_logits)


def g_loss_fn(g_vars, d_vars, aug, z, p):
    fakes, _ = generator.stateless_call(g_vars, [], z, training=True)
    fake_logits, aug = d_of_t(d_vars, aug, fakes, p)  # T's gradient flows back to G
    return jnp.mean(jax.nn.softplus(-fake_logits)), aug


@jax.jit
def train_step(state, reals, z):
    g_vars, d_vars, aug, g_opt_vars, d_opt_vars, p = state
    fakes, _ = generator.stateless_call(g_vars, [], z[0], training=True)  # no gradient to G
    d_step = jax.value_and_grad(d_loss_fn, has_aux=True)
    (d_loss, (aug, real_logits)), grads = d_step(d_vars, aug, reals, fakes, p)
    d_vars, d_opt_vars = d_opt.stateless_apply(d_opt_vars, grads, d_vars)
    # ADA: p goes up while D is sure of the reals (mean sign of its logits above 0.6).
    r_t = jnp.mean(jnp.sign(real_logits))
    p = tf_diffaug.adjust_strength(p, r_t, jnp.float32(BATCH), target=0.6, speed_kimg=1.0)
    (g_loss, aug), grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g_vars, d_vars, aug, z[1], p)
    g_vars, g_opt_vars = g_opt.stateless_apply(g_opt_vars, grads, g_vars)
    return (g_vars, d_vars, aug, g_opt_vars, d_opt_vars, p), d_loss, g_loss


values = lambda variables: [v.value for v in variables]
state = (
    values(generator.trainable_variables), values(discriminator.trainable_variables),
    values(augment.non_trainable_variables),
    values(g_opt.variables), values(d_opt.variables), jnp.float32(0.5),
)  # fmt: skip
data = squares(256)
for step in range(STEPS):
    reals = data[rng.choice(len(data), BATCH, replace=False)]
    z = rng.normal(size=(2, BATCH, LATENT)).astype("float32")
    state, d_loss, g_loss = train_step(state, reals, z)
    print(f"step {step}: d_loss {d_loss:.4f}, g_loss {g_loss:.4f}, p {state[-1]:.3f}")
    assert np.isfinite(d_loss) and np.isfinite(g_loss)

# The weights trained; they go back into the Keras variables, as at the end of `fit`.
g_vars, d_vars, aug, *_ = state
for model, trained in ((generator, g_vars), (discriminator, d_vars)):
    pairs = list(zip(model.trainable_variables, trained, strict=True))
    assert any(np.any(variable.numpy() != value) for variable, value in pairs)
    for variable, value in pairs:
        variable.assign(value)


def check_gradient(loss, x):
    """`loss(x, p)` through T, with T's draws fixed by its seed state `aug`: at p=1 the
    gradient is the slope a central difference measures, and T changes it (p=0: no T)."""
    on, off = jnp.float32(1), jnp.float32(0)
    grad = jax.grad(loss)(x, on)
    norm, eps = jnp.linalg.norm(grad), 1e-2
    slope = (loss(x + eps * grad / norm, on) - loss(x - eps * grad / norm, on)) / (2 * eps)
    assert norm > 0 and abs(slope - norm) < 0.02 * norm, (slope, norm)
    assert jnp.linalg.norm(grad - jax.grad(loss)(x, off)) > 0.1 * norm


reals, z = data[:BATCH], rng.normal(size=(BATCH, LATENT)).astype("float32")
fakes, _ = generator.stateless_call(g_vars, [], z)
flat_g_vars, unflatten = ravel_pytree(g_vars)
check_gradient(lambda x, p: d_loss_fn(d_vars, aug, x, fakes, p)[0], reals)  # T on reals,
check_gradient(lambda x, p: d_loss_fn(d_vars, aug, reals, x, p)[0], fakes)  # on fakes,
check_gradient(lambda x, p: g_loss_fn(unflatten(x), d_vars, aug, z, p)[0], flat_g_vars)  # G
print("gradient through DiffAugment checked")
