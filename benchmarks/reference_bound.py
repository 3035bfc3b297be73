"""How far tf_diffaug's ops are from the paper's: the worst difference measured.

For random images and parameters, it applies each policy with `tf_diffaug` and with the
op-by-op port of the authors' `DiffAugment_tf.py` (`reference_port.py`) to the same
parameters, and prints the largest absolute difference of the images and of the
gradients with respect to the images (of a random linear loss) over all cases:

    python benchmarks/reference_bound.py --cases 50

Both compute in float32; a difference is float32 rounding of a different order of the
same arithmetic (the colour ops compose into one affine map here), so it grows with the
values' magnitude (contrast and saturation scale them up to 1.5x and 2x).
"""

import argparse

import numpy as np
import reference_port
import tensorflow as tf

import tf_diffaug

POLICIES = {
    "color": ("brightness", "saturation", "contrast"),
    "translation,cutout": ("translation", "cutout"),
    "color,translation,cutout": ("brightness", "saturation", "contrast", "translation", "cutout"),
}
SIDES = (32, 256)


def worst_differences(policy, side, cases, seed):
    """(max |images delta|, max |gradient delta|) over `cases` batches of 4 images."""
    layer = tf_diffaug.DiffAugment(policy, seed=seed)
    worst_images = worst_gradients = 0.0
    for case in range(cases):
        x = tf.random.stateless_uniform((4, side, side, 3), (seed, case), -1.0, 1.0)
        weights = tf.random.stateless_normal(x.shape, (seed + 1, case))
        params = layer.get_random_transformation(x)
        ours, our_grad = _images_and_gradient(layer.transform_images, x, params, weights)
        theirs, their_grad = _images_and_gradient(
            lambda images, params: reference_port.augment(images, params, POLICIES[policy]),
            x,
            params,
            weights,
        )
        worst_images = max(worst_images, float(np.abs(ours - theirs).max()))
        worst_gradients = max(worst_gradients, float(np.abs(our_grad - their_grad).max()))
    return worst_images, worst_gradients


def _images_and_gradient(augment, x, params, weights):
    with tf.GradientTape() as tape:
        tape.watch(x)
        images = augment(x, params)
        loss = tf.reduce_sum(images * weights)
    return images.numpy(), tape.gradient(loss, x).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50, help="batches per policy and size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| policy | side | cases | max abs delta, images | max abs delta, gradients |")
    print("|---|---:|---:|---:|---:|")
    for policy in POLICIES:
        for side in SIDES:
            images, gradients = worst_differences(policy, side, args.cases, args.seed)
            print(f"| {policy} | {side} | {args.cases} | {images:.2g} | {gradients:.2g} |")


if __name__ == "__main__":
    main()
