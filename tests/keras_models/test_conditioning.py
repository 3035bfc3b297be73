"""keras_models.conditioning: the `x` / `[x, labels]` calling convention, written once."""

import numpy as np
import pytest

from keras_models import conditioning


def test_pack_then_unpack_round_trips_and_casts_labels_to_int32():
    x, labels = np.zeros((3, 4), "float32"), np.array([2.0, 0.0, 1.0])
    assert conditioning.pack(x) is x
    packed = conditioning.pack(x, labels)
    assert isinstance(packed, list) and packed[0] is x
    unpacked_x, unpacked_labels = conditioning.unpack(packed, conditional=True)
    assert unpacked_x is x and np.asarray(unpacked_labels).dtype == np.int32
    np.testing.assert_array_equal(unpacked_labels, [2, 0, 1])
    assert conditioning.unpack(x, conditional=False) == (x, None)
    assert conditioning.unpack((x, labels))[0] is x  # unchecked: either form


def test_unpack_says_how_the_model_is_called():
    x = np.zeros((2, 4), "float32")
    with pytest.raises(ValueError, match=r"called as generator\(\[latents, labels\]\)"):
        conditioning.unpack(x, conditional=True, call="generator", first="latents")
    with pytest.raises(ValueError, match=r"called as generator\(latents\), a single"):
        conditioning.unpack([x, x], conditional=False, call="generator", first="latents")
    with pytest.raises(ValueError, match="Received: a list of 3"):
        conditioning.unpack([x, x, x])


def test_random_labels_are_uniform_int32_and_follow_the_seed():
    labels = np.asarray(conditioning.random_labels(3000, 5, seed=7))
    assert labels.dtype == np.int32 and labels.shape == (3000,)
    assert set(labels) == set(range(5))
    counts = np.bincount(labels, minlength=5)
    assert counts.min() > 500 and counts.max() < 700  # 600 expected per class
    np.testing.assert_array_equal(conditioning.random_labels(3000, 5, seed=7), labels)
    assert not np.array_equal(conditioning.random_labels(3000, 5, seed=8), labels)
