"""ADA's controller of the augmentation probability, as a pure function of any backend.

Karras et al. (2020, "Training Generative Adversarial Networks with Limited Data") steer
the probability p of their augmentations with the overfitting heuristic
r_t = E[sign(D(x_real))]: when D is sure of the reals (r_t above a target, 0.6), p goes
up, otherwise down. `adjust_strength` is one adjustment, with no state of its own, so
that a JAX (`jax.jit`) or PyTorch training step can carry p itself and pass it to
`DiffAugment(...)(images, training=True, probability=p)`; the TensorFlow `keras_models.GAN`
keeps p in a variable (`keras_models.AdaptiveStrength`) and updates it with this function.
"""

from keras import ops

from tf_diffaug.backend import Tensor


def adjust_strength(
    p: Tensor, r_t: Tensor, count: Tensor, *, target: float, speed_kimg: float
) -> Tensor:
    """ADA's controller: the augmentation probability after one adjustment.

        p <- clip(p + sign(r_t - target) * count / (speed_kimg * 1000), 0, 1)

    Any backend's tensors (or NumPy values) work; with float32 inputs the arithmetic is
    float32 throughout.

    Args:
        p: the current probability, a float32 scalar in [0, 1].
        r_t: the mean sign of D's logits on the reals counted since the last adjustment.
        count: how many reals were counted (real images shown to D); 0 leaves p as it is.
        target: the r_t that p is steered toward, in [-1, 1].
        speed_kimg: thousands of real images shown to D in which p can move from 0 to 1.

    Returns:
        The new p, a scalar of p's dtype.
    """
    # A product with the float32 reciprocal: graph optimisers may turn a division by a
    # constant into one, so this is the same arithmetic everywhere.
    rate = ops.convert_to_tensor(1.0 / (speed_kimg * 1000.0), "float32")
    step = ops.sign(r_t - target) * (count * rate)
    return ops.where(count > 0, ops.clip(p + step, 0.0, 1.0), p)
