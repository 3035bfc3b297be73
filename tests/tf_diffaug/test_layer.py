"""The DiffAugment layer and `diff_augment`: modes, dtypes, layouts, seeds, saving, errors,
on every Keras backend (see `tests/helpers/backend.py`)."""

import keras
import numpy as np
import pytest
from keras import ops

import tf_diffaug
from tests.helpers import diffaugment_numpy as ref
from tests.helpers.backend import BACKEND, compiled, gradient, numpy, tensor
from tests.helpers.serialization import assert_config_round_trip, assert_keras_save_load

POLICY = "color,translation,cutout"


def images(batch=4, height=16, width=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, height, width, 3)).astype("float32")


def test_training_false_is_the_identity_and_training_true_augments():
    x = images()
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    np.testing.assert_array_equal(numpy(layer(x, training=False)), x)
    assert layer.get_random_transformation(x, training=False) is None
    assert np.abs(numpy(layer(x, training=True)) - x).max() > 0.1


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_output_dtype_equals_input_dtype_and_values_match_float32(dtype):
    x = images()
    layer = tf_diffaug.DiffAugment(POLICY, seed=2)
    params = layer.get_random_transformation(x)
    out = layer.transform_images(ops.cast(x, dtype), params)
    assert keras.backend.standardize_dtype(out.dtype) == dtype
    expected = ref.augment(numpy(ops.cast(x, dtype)), numpy(params), layer.policy.ops)
    tol = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-6}[dtype]
    np.testing.assert_allclose(numpy(out), expected, atol=tol, rtol=tol)


def test_mixed_precision_policy_does_not_cast_inputs():
    layer = tf_diffaug.DiffAugment(POLICY, dtype="mixed_float16")
    dtype = lambda x: keras.backend.standardize_dtype(x.dtype)
    assert dtype(layer(images(), training=True)) == "float32"
    assert dtype(layer(ops.cast(images(), "float16"), training=True)) == "float16"


def test_channels_first_equals_channels_last_transposed():
    x = images(3, 12, 10)
    last = tf_diffaug.DiffAugment(POLICY, data_format="channels_last", seed=4)
    first = tf_diffaug.DiffAugment(POLICY, data_format="channels_first", seed=4)
    params = last.get_random_transformation(x)
    x_first = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_array_equal(
        numpy(first.transform_images(x_first, params)),
        np.transpose(numpy(last.transform_images(x, params)), (0, 3, 1, 2)),
    )
    # Sampling from an NCHW batch reads H and W from the right axes.
    sampled = first.get_random_transformation(np.zeros((2, 3, 40, 8), "float32"))
    assert sampled["translation"].shape == (2, 2)


def test_int_seed_reproduces_the_sequence_and_calls_differ():
    x = images()
    a, b = tf_diffaug.DiffAugment(POLICY, seed=9), tf_diffaug.DiffAugment(POLICY, seed=9)
    first, second = numpy(a(x)), numpy(a(x))
    assert np.abs(first - second).max() > 0.1
    np.testing.assert_array_equal(numpy(b(x)), first)
    np.testing.assert_array_equal(numpy(b(x)), second)
    assert np.abs(numpy(tf_diffaug.DiffAugment(POLICY, seed=10)(x)) - first).max() > 0.1


def test_functional_form_seeds():
    x = images()
    fixed = numpy(tf_diffaug.diff_augment(x, POLICY, seed=3))
    np.testing.assert_array_equal(numpy(tf_diffaug.diff_augment(x, POLICY, seed=3)), fixed)
    assert np.abs(numpy(tf_diffaug.diff_augment(x, POLICY, seed=4)) - fixed).max() > 0.1
    gen_a, gen_b = keras.random.SeedGenerator(4), keras.random.SeedGenerator(4)
    np.testing.assert_array_equal(
        numpy(tf_diffaug.diff_augment(x, seed=gen_a)),
        numpy(tf_diffaug.diff_augment(x, seed=gen_b)),
    )
    keras.utils.set_random_seed(1)
    unseeded = numpy(tf_diffaug.diff_augment(x))
    keras.utils.set_random_seed(1)
    np.testing.assert_array_equal(numpy(tf_diffaug.diff_augment(x)), unseeded)


def test_get_config_round_trip():
    layer = tf_diffaug.DiffAugment(
        ["color", "flip"],
        probability=0.3,
        translation_ratio=0.25,
        cutout_ratio=0.4,
        data_format="channels_first",
        seed=12,
        value_range=(0, 255),
        name="aug",
    )
    clone = assert_config_round_trip(layer)
    assert clone.policy == layer.policy and clone.seed == 12
    assert clone.get_config()["policy"] == "brightness,saturation,contrast,flip"


def test_keras_model_with_the_layer_saves_and_loads(tmp_path):
    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Conv2D(2, 3)(tf_diffaug.DiffAugment(POLICY, seed=21)(inputs))
    model = keras.Model(inputs, outputs)
    x = images()
    fresh = keras.models.clone_model(model)  # new layer, same seed: same first draw
    fresh.set_weights(model.get_weights())
    assert_keras_save_load(fresh, x, tmp_path, call=lambda m, v: m(v, training=True))
    np.testing.assert_array_equal(  # inference skips the augmentation
        numpy(model(x, training=False)), numpy(model.layers[-1](x))
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"policy": "color,blur"}, "Unknown DiffAugment op 'blur'. Valid ops are: color, bright"),
        ({"policy": "color,brightness"}, "brightness appears more than once"),
        ({"translation_ratio": 0.0}, "`translation_ratio` must be in (0, 1]"),
        ({"cutout_ratio": 1.5}, "`cutout_ratio` must be in (0, 1]"),
        ({"probability": -0.1}, "`probability` must be in [0, 1]"),
        ({"data_format": "NHWC"}, "`data_format` must be one of"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        tf_diffaug.DiffAugment(**kwargs)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((16, 16, 3), "float32"), r"rank 4.*Received: shape=\(16, 16, 3\)"),
        (np.zeros((2, 8, 8, 3), "uint8"), "float images.*Received: dtype=uint8"),
    ],
)
def test_bad_images_raise_clear_errors(x, message):
    with pytest.raises(ValueError, match=message):
        tf_diffaug.diff_augment(tensor(x))


def test_rotate90_needs_square_images():
    with pytest.raises(ValueError, match="square images"):
        tf_diffaug.diff_augment(images(2, 8, 12), "rotate90")
    assert tf_diffaug.diff_augment(images(2, 8, 8), "rotate90", seed=1).shape == (2, 8, 8, 3)


def test_empty_policy_is_the_identity():
    x = images()
    np.testing.assert_array_equal(numpy(tf_diffaug.diff_augment(x, "")), x)


def test_numpy_integer_seeds_and_non_string_policies():
    images = keras.random.uniform((2, 8, 8, 3), -1, 1)
    layer = tf_diffaug.DiffAugment(seed=np.int64(3))
    assert layer.get_config()["seed"] == 3 and type(layer.get_config()["seed"]) is int
    np.testing.assert_array_equal(
        numpy(layer(images)), numpy(tf_diffaug.DiffAugment(seed=3)(images))
    )
    np.testing.assert_array_equal(
        numpy(tf_diffaug.diff_augment(images, seed=np.int64(5))),
        numpy(tf_diffaug.diff_augment(images, seed=5)),
    )
    with pytest.raises(ValueError, match="comma-separated string or a list.*policy=123"):
        tf_diffaug.DiffAugment(policy=123)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"probability": None}, r"`probability` must be a float in \[0, 1\]; .*=None \(of type"),
        ({"probability": True}, r"a float in \[0, 1\]; .*probability=True \(of type bool\)"),
        ({"probability": "0.5"}, r"a float in \[0, 1\]; .*probability='0.5' \(of type str\)"),
        (
            {"probability": keras.Variable(0.5)},
            r"a float in \[0, 1\]; a tensor or variable is given per call instead, as "
            r"`layer\(images, training=True, probability=p\)`",
        ),
        ({"probability": float("nan")}, r"`probability` must be in \[0, 1\]"),
        ({"translation_ratio": None}, r"`translation_ratio` must be a float in \(0, 1\]"),
        ({"translation_ratio": True}, r"`translation_ratio` must be a float in \(0, 1\]"),
        ({"cutout_ratio": "0.5"}, r"`cutout_ratio` must be a float in \(0, 1\]"),
        ({"data_format": ""}, "`data_format` must be one of"),
        ({"seed": True}, r"`seed` must be None or an int.*Received: seed=True \(of type bool\)"),
        ({"seed": 1.5}, r"`seed` must be None or an int.*Received: seed=1\.5 \(of type float\)"),
        ({"seed": "3"}, r"`seed` must be None or an int.*Received: seed='3' \(of type str\)"),
        ({"seed": 2**63}, r"`seed` must be None or an int in \[-2\*\*63, 2\*\*63\)"),
    ],
)
def test_bad_argument_types_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tf_diffaug.DiffAugment(**kwargs)


def test_functional_form_rejects_bad_seeds_and_ratios():
    with pytest.raises(ValueError, match=r"an int in \[-2\*\*63, 2\*\*63\).*seed=True"):
        tf_diffaug.diff_augment(images(), seed=True)
    with pytest.raises(ValueError, match=r"an int in \[-2\*\*63, 2\*\*63\).*seed=36893"):
        tf_diffaug.diff_augment(images(), seed=2**65)
    with pytest.raises(ValueError, match=r"`cutout_ratio` must be a float.*cutout_ratio=None"):
        tf_diffaug.diff_augment(images(), cutout_ratio=None)


@pytest.mark.parametrize("policy", [POLICY, "flip", POLICY + ",rotate90"])
def test_parameters_drawn_for_another_batch_size_raise_a_clear_error(policy):
    layer = tf_diffaug.DiffAugment(policy, probability=0.5, seed=1)
    params = layer.get_random_transformation(images(batch=4))
    with pytest.raises(
        ValueError,
        match=r"parameters were drawn for a batch of 4 but the images have batch size 3; "
        r"draw them with `get_random_transformation\(images\)`\. Received: `\w+` of shape "
        r"\(4",
    ):
        layer.transform_images(images(batch=3), params)
    scalar = {**layer.get_random_transformation(images(batch=3)), layer.policy.ops[0]: 1}
    with pytest.raises(ValueError, match=r"a leading batch axis.*of shape \(\)"):
        layer.transform_images(images(batch=3), scalar)


def test_transformation_keys_that_name_no_parameters_raise_a_clear_error():
    x = images()
    layer = tf_diffaug.DiffAugment("color,translation", seed=1)
    params = layer.get_random_transformation(x)
    # Color ops are gated by identity parameters: a "<color op>_applied" would be ignored.
    for key in ("translation_aplied", "brightness_applied"):
        with pytest.raises(
            ValueError,
            match=rf"has unknown keys \['{key}'\]: the policy \('brightness', 'saturation', "
            r"'contrast', 'translation'\) needs one entry per op, and takes optional "
            r"`<op>_applied` entries for translation, cutout, flip, rotate90\. Draw it with "
            r"`get_random_transformation\(images\)`\. Received keys: \[",
        ):
            layer.transform_images(x, {**params, key: ops.ones(4, "bool")})
    # Entries for other ops are ignored (one dict may serve several policies).
    expected = numpy(layer.transform_images(x, params))
    extra = {**params, "flip": ops.ones(4, "bool"), "cutout_applied": ops.ones(4, "bool")}
    np.testing.assert_array_equal(numpy(layer.transform_images(x, extra)), expected)
    gated = {**params, "translation_applied": ops.ones(4, "bool")}
    np.testing.assert_array_equal(numpy(layer.transform_images(x, gated)), expected)
    with pytest.raises(ValueError, match=r"is missing parameters for \['contrast'\]"):
        layer.transform_images(x, {k: v for k, v in params.items() if k != "contrast"})


@pytest.mark.parametrize(
    "probability, message",
    [
        (lambda: ops.full((4,), 0.5), r"scalar float tensor.*Received: shape=\(4,\)"),
        (lambda: keras.Variable([[0.5]]), r"scalar float tensor or variable \(one probability "),
        (lambda: ops.ones((), "int32"), r"scalar float tensor.*Received: dtype=int32"),
        (lambda: True, r"Received: probability=True \(of type bool\)"),
        (lambda: "0.5", r"Received: probability='0.5' \(of type str\)"),
        (lambda: 2.0, r"`probability` must be in \[0, 1\]\. Received: probability=2\.0"),
    ],
)
def test_call_time_probability_must_be_a_float_or_a_scalar_float_tensor(probability, message):
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    probability = probability()
    with pytest.raises(ValueError, match=message):
        layer(images(), training=True, probability=probability)
    if BACKEND != "jax":  # a JAX array closed over by jax.jit is a constant: checked above
        with pytest.raises(ValueError, match=message):  # at trace time too
            compiled(lambda x: layer(x, training=True, probability=probability))(tensor(images()))


def test_tensor_probability_acts_clipped_where_it_is_not_range_checked():
    """Compiled (XLA, `jax.jit`) and on JAX and PyTorch the range is not checked; a value
    outside [0, 1] then gates as the nearest end would (documented on the layer)."""
    x = images()

    def draw(p):
        layer = tf_diffaug.DiffAugment(POLICY, seed=7)
        return numpy(compiled(lambda v, p: layer(v, training=True, probability=p))(x, tensor(p)))

    np.testing.assert_array_equal(draw(2.0), draw(1.0))
    np.testing.assert_array_equal(draw(-1.0), draw(0.0))
    np.testing.assert_array_equal(draw(0.0), x)


def test_gradient_flows_through_a_layer_call_as_through_its_parameters():
    """D(T(G(z))) trains G: the gradient of a seeded call equals the gradient of the
    same draw applied as injected parameters."""
    x, w = images(), tensor(images(seed=1))
    called, twin = tf_diffaug.DiffAugment(POLICY, seed=8), tf_diffaug.DiffAugment(POLICY, seed=8)
    params = twin.get_random_transformation(x)
    through_call = gradient(lambda v: ops.sum(called(v, training=True) * w), x)
    through_params = gradient(lambda v: ops.sum(twin.transform_images(v, params) * w), x)
    np.testing.assert_allclose(through_call, through_params, atol=1e-6)
    assert np.abs(through_call).sum() > 0


@pytest.mark.skipif(BACKEND != "jax", reason="jax.jit with Keras's stateless API")
def test_stateless_calls_under_jax_jit_follow_the_eager_sequence():
    """Under `jax.jit` the seed generator's state goes in and comes out (as Keras's
    random layers do): the compiled calls draw what an eager twin draws, call by call."""
    import jax

    x = images()
    layer, eager = tf_diffaug.DiffAugment(POLICY, seed=5), tf_diffaug.DiffAugment(POLICY, seed=5)

    @jax.jit
    def step(state, v):
        return layer.stateless_call([], state, v, training=True)

    state = [variable.value for variable in layer.non_trainable_variables]
    outputs = []
    for _ in range(3):
        out, state = step(state, x)
        outputs.append(numpy(out))
    for out in outputs:
        np.testing.assert_allclose(out, numpy(eager(x, training=True)), atol=1e-6)
    assert np.abs(outputs[0] - outputs[1]).max() > 0.1
    assert layer.supports_jit
