"""Exact values, parameter ranges and gradients of every DiffAugment op, on every Keras
backend (see `tests/helpers/backend.py`)."""

import numpy as np
import pytest
from keras import ops

import tf_diffaug
from tests.helpers import diffaugment_numpy as ref
from tests.helpers.backend import gradient, numpy, tensor
from tf_diffaug import augment, draws, geometry, registry

RNG = np.random.default_rng(0)
TOL = dict(rtol=1e-6, atol=1e-6)


def images(batch=3, height=9, width=9, channels=3):
    return RNG.uniform(-1, 1, (batch, height, width, channels)).astype(np.float32)


def transform(policy, x, params, **kwargs):
    layer = tf_diffaug.DiffAugment(policy, **kwargs)
    tensors = {k: tensor(v) for k, v in params.items()}
    return numpy(layer.transform_images(tensor(x), tensors))


def test_list_ops_names_every_op():
    assert tf_diffaug.list_ops() == [
        "brightness",
        "saturation",
        "contrast",
        "translation",
        "cutout",
        "flip",
        "rotate90",
    ]


def test_parse_policy_is_public_and_expands_color_in_place():
    assert "parse_policy" in tf_diffaug.__all__
    assert tf_diffaug.parse_policy is augment.parse_policy  # the old import path still works
    color = ("brightness", "saturation", "contrast")
    assert tf_diffaug.parse_policy("color") == color
    assert tf_diffaug.parse_policy(" Translation, color ,,cutout") == (
        "translation",
        *color,
        "cutout",
    )
    assert tf_diffaug.parse_policy(["flip", "COLOR"]) == ("flip", *color)
    assert tf_diffaug.parse_policy(None) == () == tf_diffaug.parse_policy("")
    with pytest.raises(ValueError, match="Unknown DiffAugment op 'blur'"):
        tf_diffaug.parse_policy("translation,blur")
    with pytest.raises(ValueError, match="contrast appears more than once"):
        tf_diffaug.parse_policy("contrast,color")


@pytest.mark.parametrize(
    "name, values",
    [
        ("brightness", [-0.5, 0.0, 0.4999]),
        ("saturation", [0.0, 1.0, 1.9999]),
        ("contrast", [0.5, 1.0, 1.4999]),
    ],
)
def test_color_ops_exact(name, values):
    x = images()
    params = {name: np.array(values, np.float32)}
    np.testing.assert_allclose(transform(name, x, params), ref.augment(x, params, [name]), **TOL)


@pytest.mark.parametrize("height, width", [(8, 8), (9, 9), (7, 12), (12, 5)])
def test_translation_exact_including_maximum_shifts(height, width):
    ky, kx = ref.scaled_size(height, 0.125), ref.scaled_size(width, 0.125)
    shifts = np.array([[ky, kx], [-ky, -kx], [ky, -kx], [-ky, kx], [0, 0], [1, -1]], np.int32)
    x = images(len(shifts), height, width)
    params = {"translation": shifts}
    expected = ref.augment(x, params, ["translation"])
    np.testing.assert_array_equal(transform("translation", x, params), expected)
    # A maximal shift really moves content off the image: a band of zeros appears.
    assert np.all(expected[0, height - ky :] == 0) and np.all(expected[1, :ky] == 0)


@pytest.mark.parametrize("height, width", [(8, 8), (9, 9), (7, 12), (12, 5)])
def test_cutout_exact_at_each_corner(height, width):
    ch, cw = ref.scaled_size(height, 0.5), ref.scaled_size(width, 0.5)
    last_y, last_x = height - ch % 2, width - cw % 2  # the largest centres cutout allows
    centers = np.array(
        [[0, 0], [0, last_x], [last_y, 0], [last_y, last_x], [height // 2, width // 2]],
        np.int32,
    )
    x = images(len(centers), height, width)
    params = {"cutout": centers}
    out = transform("cutout", x, params)
    np.testing.assert_array_equal(out, ref.augment(x, params, ["cutout"]))
    zeroed = (out == 0).all(axis=3)
    assert zeroed[4].sum() == ch * cw  # a centred square is never clipped
    assert 0 < zeroed[0].sum() < ch * cw  # a corner square is clipped, never absent


@pytest.mark.parametrize("height, width, ratio", [(16, 16, 0.25), (10, 14, 1.0)])
def test_cutout_ratio(height, width, ratio):
    x = images(2, height, width)
    params = {"cutout": np.array([[3, 4], [height - 1, 0]], np.int32)}
    np.testing.assert_array_equal(
        transform("cutout", x, params, cutout_ratio=ratio),
        ref.augment(x, params, ["cutout"], cutout_ratio=ratio),
    )


def test_flip_and_rotate90_exact():
    x = images(4, 6, 6)
    params = {
        "flip": np.array([True, False, True, False]),
        "rotate90": np.array([0, 1, 2, 3], np.int32),
    }
    np.testing.assert_array_equal(
        transform("flip,rotate90", x, params), ref.augment(x, params, ["flip", "rotate90"])
    )


@pytest.mark.parametrize("height, width", [(9, 9), (8, 11)])
@pytest.mark.parametrize("policy", ["color,translation,cutout", "cutout,translation,color"])
def test_full_policy_exact_with_sampled_parameters(height, width, policy):
    x = images(16, height, width)
    layer = tf_diffaug.DiffAugment(policy, seed=7)
    params = layer.get_random_transformation(tensor(x))
    expected = ref.augment(x, numpy(params), layer.policy.ops)
    np.testing.assert_allclose(numpy(layer.transform_images(x, params)), expected, **TOL)


def test_color_ops_in_any_order_fuse_to_the_sequential_result():
    x = images(4)
    params = {
        "brightness": np.array([0.3, -0.2, 0.1, -0.5], np.float32),
        "saturation": np.array([0.0, 1.7, 0.4, 1.2], np.float32),
        "contrast": np.array([1.4, 0.6, 1.0, 0.9], np.float32),
    }
    for policy in (
        ["contrast", "brightness", "saturation"],
        ["saturation", "contrast", "brightness"],
        ["contrast", "saturation"],
    ):
        np.testing.assert_allclose(
            transform(policy, x, params), ref.augment(x, params, policy), **TOL
        )


def test_probability_gates_each_op_per_sample():
    x = images(256, 8, 8)
    layer = tf_diffaug.DiffAugment("color,translation,cutout", probability=0.5, seed=3)
    params = numpy(layer.get_random_transformation(x))
    skipped = params["brightness"] == 0
    assert 0.35 < skipped.mean() < 0.65
    assert 0.35 < params["cutout_applied"].mean() < 0.65
    np.testing.assert_allclose(
        numpy(layer.transform_images(x, params)),
        ref.augment(x, params, layer.policy.ops),
        **TOL,
    )
    never = tf_diffaug.DiffAugment("color,translation,cutout", probability=0.0, seed=3)
    np.testing.assert_array_equal(numpy(never(x, training=True)), x)


# --- parameter distributions ----------------------------------------------------------


def draw_many(policy, height, width, batch=4096, seed=11):
    layer = tf_diffaug.DiffAugment(policy, seed=seed)
    x = ops.zeros((batch, height, width, 3))
    return numpy(layer.get_random_transformation(x))


def test_color_parameters_stay_in_range_and_reach_both_ends():
    params = draw_many("color", 4, 4)
    for name, (low, high) in {
        "brightness": (-0.5, 0.5),
        "saturation": (0.0, 2.0),
        "contrast": (0.5, 1.5),
    }.items():
        values = params[name]
        assert values.dtype == np.float32 and values.shape == (4096,)
        assert values.min() >= low and values.max() < high
        width = high - low
        assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width


@pytest.mark.parametrize("side, k, c", [(32, 4, 16), (64, 8, 32), (128, 16, 64), (256, 32, 128)])
def test_translation_and_cutout_sizes_match_design(side, k, c):
    assert geometry.scaled_size(side, 0.125) == k and geometry.scaled_size(side, 0.5) == c
    params = draw_many("translation,cutout", side, side, batch=2048)
    t, centers = params["translation"], params["cutout"]
    assert t.dtype == np.int32 and t.shape == (2048, 2)
    assert t.min() == -k and t.max() == k
    assert centers.min() == 0 and centers.max() == side + (1 - c % 2) - 1


RATIOS = (0.1, 0.15, 0.3, 1 / 3, 0.35, 0.45, 0.65, 0.7, 0.85, 0.9)


def test_scaled_size_rounds_in_float32_for_static_and_dynamic_sides():
    """One rounding rule, the paper's float32 `tf.cast(size * ratio + 0.5, tf.int32)`,
    whether the side is a Python int (static shape) or a tensor (dynamic shape)."""
    sides = np.arange(1, 513)
    in_float64 = 0
    for ratio in RATIOS:
        expected = (sides.astype(np.float32) * np.float32(ratio) + np.float32(0.5)).astype(int)
        static = [geometry.scaled_size(int(side), ratio) for side in sides]
        np.testing.assert_array_equal(static, expected, err_msg=f"ratio={ratio}")
        dynamic = geometry.scaled_size(tensor(sides, "int32"), ratio)
        np.testing.assert_array_equal(numpy(dynamic), expected, err_msg=f"ratio={ratio}")
        in_float64 += np.sum((sides * ratio + 0.5).astype(int) != expected)
    assert in_float64 > 0  # the sweep contains sides where float64 rounding differs
    assert geometry.scaled_size(45, 0.7) == 32


def test_cutout_size_rounds_in_float32():
    """45 px with cutout_ratio=0.7: a 32 x 32 square (float32), not 31 x 31 (float64)."""
    x = np.ones((1, 45, 45, 3), np.float32)
    layer = tf_diffaug.DiffAugment("cutout", cutout_ratio=0.7)
    out = numpy(layer.transform_images(x, {"cutout": np.array([[22, 22]], np.int32)}))
    assert (out[0] == 0).all(axis=-1).sum() == 32 * 32


def test_non_square_bounds_use_each_side():
    params = draw_many("translation,cutout", 16, 40)
    t, centers = params["translation"], params["cutout"]
    assert (t[:, 0].min(), t[:, 0].max()) == (-2, 2)
    assert (t[:, 1].min(), t[:, 1].max()) == (-5, 5)
    assert centers[:, 0].max() == 16 and centers[:, 1].max() == 40


def test_extras_parameter_ranges():
    params = draw_many("flip,rotate90", 8, 8, batch=512)
    assert 0.4 < params["flip"].mean() < 0.6
    assert set(np.unique(params["rotate90"])) == {0, 1, 2, 3}


# --- gradients ------------------------------------------------------------------------


def augment_gradient(policy, x, params, weights, compile=False, **kwargs):
    """d<augment(x), weights>/dx, eagerly or compiled (XLA, `jax.jit`): TensorFlow's
    ops use a different formulation as kernels and under XLA."""
    layer = tf_diffaug.DiffAugment(policy, **kwargs)
    params, weights = {k: tensor(v) for k, v in params.items()}, tensor(weights)
    return gradient(lambda v: ops.sum(layer.transform_images(v, params) * weights), x, compile)


def test_color_gradients_equal_the_affine_jacobian():
    x, w = images(3), images(3)
    b = np.array([0.1, -0.3, 0.2], np.float32)
    s = np.array([0.0, 0.5, 1.9], np.float32)
    c = np.array([0.5, 1.2, 1.45], np.float32)
    per = lambda v: v[:, None, None, None]
    np.testing.assert_allclose(augment_gradient("brightness", x, {"brightness": b}, w), w, **TOL)
    np.testing.assert_allclose(
        augment_gradient("saturation", x, {"saturation": s}, w),
        per(s) * w + per(1 - s) * w.mean(axis=3, keepdims=True),
        **TOL,
    )
    np.testing.assert_allclose(
        augment_gradient("contrast", x, {"contrast": c}, w),
        per(c) * w + per(1 - c) * w.mean(axis=(1, 2, 3), keepdims=True),
        **TOL,
    )


def test_translation_gradient_is_the_shifted_mask():
    x, w = images(3, 8, 10), images(3, 8, 10)
    t = np.array([[1, -2], [-1, 1], [0, 0]], np.int32)
    expected = np.zeros_like(w)
    for b, (ty, tx) in enumerate(t):
        for h in range(8):
            for col in range(10):
                if 0 <= h + ty < 8 and 0 <= col + tx < 10:
                    expected[b, h + ty, col + tx] += w[b, h, col]
    grad = augment_gradient("translation", x, {"translation": t}, w)
    np.testing.assert_allclose(grad, expected, **TOL)
    assert np.abs(grad).sum() > 0


def test_cutout_gradient_is_the_mask():
    x, w = images(2, 8, 8), images(2, 8, 8)
    centers = np.array([[0, 7], [4, 4]], np.int32)
    np.testing.assert_allclose(
        augment_gradient("cutout", x, {"cutout": centers}, w),
        w * ref.cutout_mask(x.shape, centers),
        **TOL,
    )


def reference_vjp(x, params, policy, weights):
    """J^T w for the NumPy reference, exactly: every op is affine in the images, so
    d<f(x), w>/dx_i = <f(e_i) - f(0), w>, one basis image e_i per pixel and channel."""
    batch, shape = x.shape[0], x.shape[1:]
    size = int(np.prod(shape))
    basis = np.concatenate([np.eye(size), np.zeros((1, size))]).reshape(-1, *shape)
    grads = []
    for b in range(batch):
        # Sample b's parameters repeated for every basis image.
        tiled = {
            k: np.repeat(np.asarray(v)[b : b + 1], len(basis), axis=0) for k, v in params.items()
        }
        out = ref.augment(basis, tiled, policy)
        jacobian = (out[:-1] - out[-1]).reshape(size, -1)  # row i: f(e_i) - f(0)
        grads.append((jacobian @ weights[b].reshape(-1)).reshape(shape))
    return np.stack(grads)


@pytest.mark.parametrize(
    "policy, probability",
    [
        ("color,translation,cutout", 1.0),
        ("color,translation,cutout", 0.5),
        ("cutout,translation,color", 1.0),
        ("translation,brightness,cutout,contrast", 0.7),
        ("saturation,cutout,flip,translation", 1.0),
        ("contrast,rotate90,cutout", 0.5),
    ],
)
@pytest.mark.parametrize("compile", [False, True])
def test_fused_policy_gradient_equals_the_reference_jacobian(policy, probability, compile):
    """Runs of color and translation/cutout ops share one gradient (hand-written on
    TensorFlow); it must equal the transposed Jacobian of the op-by-op reference for any
    order and gating, eagerly and compiled."""
    x, w = images(6, 6, 6), images(6, 6, 6)
    layer = tf_diffaug.DiffAugment(policy, probability=probability, seed=11)
    params = numpy(layer.get_random_transformation(tensor(x)))
    np.testing.assert_allclose(
        augment_gradient(policy, x, params, w, compile, probability=probability),
        reference_vjp(x, params, layer.policy.ops, w),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("name", tf_diffaug.list_ops())
def test_every_op_passes_a_nonzero_gradient(name):
    x, w = images(4, 8, 8), images(4, 8, 8)
    layer = tf_diffaug.DiffAugment(name, seed=1)
    params = numpy(layer.get_random_transformation(x))
    grad = augment_gradient(name, x, params, w)
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


@pytest.mark.parametrize("name", tf_diffaug.list_ops())
def test_each_registry_entry_samples_parameters_that_apply_as_the_reference(name):
    """`registry.OPS[name].sample` on its own, with exactly `num_draws` rows of bits."""
    x = images(6, 10, 10)
    op = registry.OPS[name]
    draw = draws.Draw(augment.base_seed(5), 6, op.num_draws)
    params = numpy(op.sample(draw, geometry.Sizes.of(tensor(x), 0.125, 0.5)))
    out = transform(name, x, {name: params})
    np.testing.assert_allclose(out, ref.augment(x, {name: params}, [name]), **TOL)


# --- value_range ------------------------------------------------------------------------


def test_color_ops_on_another_range_are_the_same_relative_change():
    """On images in [0, 1], (0, 1) gives the [-1, 1] result mapped to [0, 1]: brightness
    adds b / 2, while saturation and contrast, scalings about a mean, are unchanged."""
    x = images(4)
    params = {
        "brightness": np.array([0.3, -0.2, 0.1, -0.5], np.float32),
        "saturation": np.array([0.0, 1.7, 0.4, 1.2], np.float32),
        "contrast": np.array([1.4, 0.6, 1.0, 0.9], np.float32),
    }
    unit = (x + 1) / 2
    for policy in ("color", "contrast,brightness", "brightness"):
        np.testing.assert_allclose(
            transform(policy, unit, params, value_range=(0, 1)),
            (transform(policy, x, params) + 1) / 2,
            **TOL,
        )
    np.testing.assert_allclose(
        transform("brightness", x * 127.5 + 127.5, params, value_range=(0, 255)),
        x * 127.5 + 127.5 + params["brightness"][:, None, None, None] * 127.5,
        rtol=1e-6,
        atol=1e-4,
    )


def test_value_range_leaves_the_geometric_ops_as_they_are():
    """Zero padding and cutout stay zeros, on any range ("the colour ops and nothing
    else")."""
    x = (images(3, 8, 8) + 1) / 2
    params = {
        "translation": np.array([[2, -1], [0, 3], [-1, 0]], np.int32),
        "cutout": np.array([[0, 7], [4, 4], [2, 2]], np.int32),
        "flip": np.array([True, False, True]),
    }
    policy = "translation,cutout,flip"
    np.testing.assert_array_equal(
        transform(policy, x, params, value_range=(0, 1)), transform(policy, x, params)
    )


@pytest.mark.parametrize(
    "value_range", [(1, 0), (0, 0), (0,), "0,1", (0, float("inf")), (0, None), (False, 1)]
)
def test_bad_value_ranges_raise_a_clear_error(value_range):
    with pytest.raises(ValueError, match=r"`value_range` must be a pair \(low, high\) of finite"):
        tf_diffaug.DiffAugment(value_range=value_range)
    with pytest.raises(ValueError, match=r"Received: value_range="):
        tf_diffaug.diff_augment(images(), value_range=value_range)
