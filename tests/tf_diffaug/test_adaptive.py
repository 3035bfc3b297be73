"""`tf_diffaug.adjust_strength`, ADA's controller as a pure function, on every backend."""

import numpy as np
import pytest

import tf_diffaug
from tests.helpers.backend import compiled, numpy, tensor


@pytest.mark.parametrize("compile", [False, True])
def test_adjust_strength_is_the_controller_as_a_pure_function(compile):
    # p + sign(r_t - target) * count / (speed_kimg * 1000), clipped, in float32.
    def adjust(p, r_t, count):
        fn = lambda *args: tf_diffaug.adjust_strength(*args, target=0.6, speed_kimg=0.5)
        fn = compiled(fn) if compile else fn
        new_p = numpy(fn(*(tensor(v, "float32") for v in (p, r_t, count))))
        assert new_p.dtype == np.float32
        return float(new_p)

    assert adjust(0.5, 0.8, 100) == float(np.float32(0.5) + np.float32(100 * (1 / 500)))
    assert adjust(0.5, 0.2, 100) == float(np.float32(0.5) - np.float32(100 * (1 / 500)))
    assert adjust(0.95, 1.0, 100) == 1.0 and adjust(0.05, -1.0, 100) == 0.0  # clipped
    assert adjust(0.5, 1.0, 0) == 0.5  # nothing counted: p stays
    assert adjust(0.5, 0.6, 100) == 0.5  # on target: sign 0


def test_numpy_values_work_too():
    new_p = tf_diffaug.adjust_strength(
        np.float32(0.5), np.float32(0.8), np.float32(100), target=0.6, speed_kimg=0.5
    )
    assert float(numpy(new_p)) == float(np.float32(0.5) + np.float32(100 * (1 / 500)))
