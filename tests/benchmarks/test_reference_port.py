"""The benchmark's baseline is a faithful port: same parameters, same images as ours."""

import os
import sys

import numpy as np
import tensorflow as tf

import tf_diffaug

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import reference_port  # noqa: E402


def test_reference_port_equals_tf_diffaug_on_the_same_parameters():
    x = tf.random.stateless_uniform((16, 20, 12, 3), (1, 2), -1, 1)
    layer = tf_diffaug.DiffAugment("color,translation,cutout", seed=4)
    params = layer.get_random_transformation(x)
    np.testing.assert_allclose(
        reference_port.augment(x, params).numpy(),
        layer.transform_images(x, params).numpy(),
        rtol=1e-6,
        atol=1e-6,
    )


def test_reference_port_sampler_uses_the_same_ranges():
    params = reference_port.sample(tf.zeros((4096, 32, 32, 3)))
    assert params["translation"].numpy().min() == -4 and params["translation"].numpy().max() == 4
    assert params["cutout"].numpy().min() == 0 and params["cutout"].numpy().max() == 32
    assert 1.49 < params["contrast"].numpy().max() < 1.5


def test_the_measured_bound_holds_and_the_geometric_ops_are_exact():
    import reference_bound

    images, gradients = reference_bound.worst_differences("color,translation,cutout", 32, 3, 0)
    assert 0 < images <= 1e-6 and 0 < gradients <= 2e-6  # float32 rounding, as the README says
    assert reference_bound.worst_differences("translation,cutout", 32, 3, 0) == (0.0, 0.0)
