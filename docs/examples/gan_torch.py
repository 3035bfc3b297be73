"""A minimal GAN with DiffAugment on the PyTorch backend: an eager torch training loop.

DiffAugment's rule: the same augmentation T on real and generated images, in D's step
(D(T(x)), D(T(G(z)))) and in G's step (G learns through D(T(G(z))), T's gradient included).
On this backend Keras models are torch modules, trained here by `torch.optim.Adam` on their
`parameters()`, and the layer takes torch tensors. T's probability p follows ADA's controller.

Run: KERAS_BACKEND=torch python docs/examples/gan_torch.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import torch
from keras import layers
from torch.nn.functional import softplus

import tf_diffaug

BATCH, LATENT, STEPS = 32, 16, 12
rng = np.random.default_rng(0)
tensor = keras.ops.convert_to_tensor  # a torch tensor on Keras's device


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
g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))


def d_of_t(images, p):
    """D(T(images)): both steps score reals and fakes this way."""
    return discriminator(augment(images, training=True, probability=p), training=True)


def d_loss_fn(reals, fakes, p):  # non-saturating loss
    real_logits, fake_logits = d_of_t(reals, p), d_of_t(fakes, p)
    return softplus(-real_logits).mean() + softplus(fake_logits).mean(), real_logits


def g_loss_fn(fakes, p):  # G's loss, given its images
    return softplus(-d_of_t(fakes, p)).mean()


def weights(model):
    return [w.detach().clone() for w in model.parameters()]


initial = weights(generator), weights(discriminator)
data, p = squares(256), tensor(0.5)
for step in range(STEPS):
    reals = tensor(data[rng.choice(len(data), BATCH, replace=False)])
    z = tensor(rng.normal(size=(2, BATCH, LATENT)).astype("float32"))
    fakes = generator(z[0], training=True).detach()  # no gradient to G in D's step
    d_loss, real_logits = d_loss_fn(reals, fakes, p)
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    with torch.no_grad():  # ADA: p goes up while D is sure of the reals (mean sign > 0.6)
        r_t = torch.sign(real_logits).mean()
        p = tf_diffaug.adjust_strength(p, r_t, tensor(BATCH * 1.0), target=0.6, speed_kimg=1.0)
    g_loss = g_loss_fn(generator(z[1], training=True), p)  # not detached: T's gradient to G
    g_opt.zero_grad()  # (D's gradients from this step are cleared by D's next zero_grad)
    g_loss.backward()
    g_opt.step()
    print(f"step {step}: d_loss {d_loss:.4f}, g_loss {g_loss:.4f}, p {p:.3f}")
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)

for model, before in zip((generator, discriminator), initial, strict=True):  # the weights trained
    assert any(not torch.equal(w, b) for w, b in zip(weights(model), before, strict=True))


def check_gradient(loss, x):
    """`loss(x, p)` through T, with T's draws fixed (its seed state is reset before each
    call): at p=1 the gradient is the slope a central difference measures, and T changes
    it (p=0: no T)."""
    seed_state = augment.seed_generator.state.value.clone()

    def at(x, p):
        augment.seed_generator.state.assign(seed_state)
        return loss(x, tensor(p))

    x = x.detach().requires_grad_()
    grad, off = (torch.autograd.grad(at(x, p), x)[0] for p in (1.0, 0.0))
    norm, eps = grad.norm(), 1e-2
    with torch.no_grad():
        slope = (at(x + eps * grad / norm, 1.0) - at(x - eps * grad / norm, 1.0)) / (2 * eps)
    assert norm > 0 and abs(slope - norm) < 0.02 * norm, (slope, norm)
    assert (grad - off).norm() > 0.1 * norm


reals, z = tensor(data[:BATCH]), tensor(rng.normal(size=(BATCH, LATENT)).astype("float32"))
fakes = generator(z).detach()
check_gradient(lambda x, p: d_loss_fn(x, fakes, p)[0], reals)  # T on reals in D's step,
check_gradient(lambda x, p: d_loss_fn(reals, x, p)[0], fakes)  # on fakes,
check_gradient(g_loss_fn, fakes)  # and in G's step
print("gradient through DiffAugment checked")
