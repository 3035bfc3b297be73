"""The DiffAugment layer and `diff_augment`: modes, dtypes, layouts, seeds, saving, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_diffaug
from tests.helpers import checks
from tests.helpers import diffaugment_numpy as ref

POLICY = "color,translation,cutout"


def images(batch=4, height=16, width=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, height, width, 3)).astype("float32")


def test_training_false_is_the_identity_and_training_true_augments():
    x = images()
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert layer.get_random_transformation(x, training=False) is None
    assert np.abs(layer(x, training=True).numpy() - x).max() > 0.1


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_output_dtype_equals_input_dtype_and_values_match_float32(dtype):
    x = images()
    layer = tf_diffaug.DiffAugment(POLICY, seed=2)
    params = layer.get_random_transformation(x)
    out = layer.transform_images(tf.cast(x, dtype), params)
    assert out.dtype == dtype
    expected = ref.augment(
        tf.cast(tf.cast(x, dtype), "float32").numpy(),
        {k: v.numpy() for k, v in params.items()},
        layer.policy.ops,
    )
    tol = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-6}[dtype]
    np.testing.assert_allclose(tf.cast(out, "float32").numpy(), expected, atol=tol, rtol=tol)


def test_mixed_precision_policy_does_not_cast_inputs():
    layer = tf_diffaug.DiffAugment(POLICY, dtype="mixed_float16")
    assert layer(images(), training=True).dtype == "float32"
    assert layer(tf.cast(images(), "float16"), training=True).dtype == "float16"


def test_channels_first_equals_channels_last_transposed():
    x = images(3, 12, 10)
    last = tf_diffaug.DiffAugment(POLICY, data_format="channels_last", seed=4)
    first = tf_diffaug.DiffAugment(POLICY, data_format="channels_first", seed=4)
    params = last.get_random_transformation(x)
    x_first = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_array_equal(
        first.transform_images(x_first, params).numpy(),
        np.transpose(last.transform_images(x, params).numpy(), (0, 3, 1, 2)),
    )
    # Sampling from an NCHW batch reads H and W from the right axes.
    sampled = first.get_random_transformation(np.zeros((2, 3, 40, 8), "float32"))
    assert sampled["translation"].shape == (2, 2)


def test_dynamic_batch_and_image_size_under_tf_function():
    layer = tf_diffaug.DiffAugment(POLICY, seed=5)
    fn = tf.function(
        lambda x: layer(x, training=True),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
    )
    for batch, height, width in ((1, 8, 8), (5, 12, 20), (3, 33, 17)):
        x = images(batch, height, width)
        out = fn(x)
        assert out.shape == x.shape
        # Same seed, same draws: the traced result equals the eager one.
        eager = tf_diffaug.DiffAugment(POLICY, seed=5)
        eager.seed_generator.state.assign(layer.seed_generator.state - [0, 1])
        np.testing.assert_allclose(eager(x, training=True).numpy(), out.numpy(), atol=1e-6)


def test_int_seed_reproduces_the_sequence_and_calls_differ():
    x = images()
    a, b = tf_diffaug.DiffAugment(POLICY, seed=9), tf_diffaug.DiffAugment(POLICY, seed=9)
    first, second = a(x).numpy(), a(x).numpy()
    assert np.abs(first - second).max() > 0.1
    np.testing.assert_array_equal(b(x).numpy(), first)
    np.testing.assert_array_equal(b(x).numpy(), second)
    assert np.abs(tf_diffaug.DiffAugment(POLICY, seed=10)(x).numpy() - first).max() > 0.1


def test_functional_form_seeds():
    x = images()
    fixed = tf_diffaug.diff_augment(x, POLICY, seed=3).numpy()
    np.testing.assert_array_equal(tf_diffaug.diff_augment(x, POLICY, seed=3).numpy(), fixed)
    gen_a, gen_b = keras.random.SeedGenerator(4), keras.random.SeedGenerator(4)
    np.testing.assert_array_equal(
        tf_diffaug.diff_augment(x, seed=gen_a).numpy(),
        tf_diffaug.diff_augment(x, seed=gen_b).numpy(),
    )
    keras.utils.set_random_seed(1)
    unseeded = tf_diffaug.diff_augment(x).numpy()
    keras.utils.set_random_seed(1)
    np.testing.assert_array_equal(tf_diffaug.diff_augment(x).numpy(), unseeded)


def test_xla_equals_graph_for_injected_and_for_seeded_parameters():
    x = images(6, 20, 14)
    layer = tf_diffaug.DiffAugment(POLICY + ",flip", probability=0.7)
    params = layer.get_random_transformation(x, seed=1)
    graph, xla = checks.run_graph_and_xla(lambda v: layer.transform_images(v, params), x)
    np.testing.assert_allclose(xla, graph, atol=1e-6)
    # The RNG is pinned to Philox and floats are built from its bits: same draws in XLA.
    graph, xla = checks.run_graph_and_xla(
        lambda v: layer.policy.sample(v, tf.constant([3, 4], tf.int64)), x
    )
    for key in graph:
        np.testing.assert_array_equal(xla[key], graph[key])


def test_gradient_under_xla_matches_eager():
    x, w = images(), images(seed=1)
    layer = tf_diffaug.DiffAugment(POLICY)
    params = layer.get_random_transformation(x, seed=2)

    def grad(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            loss = tf.reduce_sum(layer.transform_images(v, params) * w)
        return tape.gradient(loss, v)

    graph, xla = checks.run_graph_and_xla(grad, tf.constant(x))
    np.testing.assert_allclose(xla, graph, atol=1e-6)
    np.testing.assert_allclose(grad(tf.constant(x)).numpy(), graph, atol=1e-6)


def test_two_replicas_give_the_one_replica_result_for_the_same_parameters():
    x = images(8, 12, 12)
    layer = tf_diffaug.DiffAugment(POLICY)
    params = {k: v.numpy() for k, v in layer.get_random_transformation(x, seed=3).items()}
    expected = layer.transform_images(x, params).numpy()
    keys = sorted(params)
    batch = (x, *[params[k] for k in keys])

    def shard(x, *values):
        return layer.transform_images(x, dict(zip(keys, values, strict=True)))

    for strategy in (checks.one_replica_strategy(), checks.two_replica_strategy()):
        out = checks.run_per_replica(strategy, shard, batch)
        np.testing.assert_allclose(out, expected, atol=1e-6)


def test_replicas_draw_independent_parameters():
    strategy = checks.two_replica_strategy()
    with strategy.scope():
        layer = tf_diffaug.DiffAugment("translation", seed=0)
    x = np.zeros((64, 32, 32, 3), "float32")
    out = checks.run_per_replica(
        strategy, lambda v: layer.get_random_transformation(v)["translation"], x
    )
    assert out.shape == (64, 2)
    assert not np.array_equal(out[:32], out[32:])


def test_get_config_round_trip():
    layer = tf_diffaug.DiffAugment(
        ["color", "flip"],
        probability=0.3,
        translation_ratio=0.25,
        cutout_ratio=0.4,
        data_format="channels_first",
        seed=12,
        name="aug",
    )
    clone = checks.assert_config_round_trip(layer)
    assert clone.policy == layer.policy and clone.seed == 12
    assert clone.get_config()["policy"] == "brightness,saturation,contrast,flip"


def test_keras_model_with_the_layer_saves_and_loads(tmp_path):
    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Conv2D(2, 3)(tf_diffaug.DiffAugment(POLICY, seed=21)(inputs))
    model = keras.Model(inputs, outputs)
    x = images()
    fresh = keras.models.clone_model(model)  # new layer, same seed: same first draw
    fresh.set_weights(model.get_weights())
    checks.assert_keras_save_load(fresh, x, tmp_path, call=lambda m, v: m(v, training=True))
    np.testing.assert_array_equal(  # inference skips the augmentation
        model(x, training=False).numpy(), model.layers[-1](x).numpy()
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
        tf_diffaug.diff_augment(tf.constant(x))


def test_rotate90_needs_square_images():
    with pytest.raises(ValueError, match="square images"):
        tf_diffaug.diff_augment(images(2, 8, 12), "rotate90")
    assert tf_diffaug.diff_augment(images(2, 8, 8), "rotate90", seed=1).shape == (2, 8, 8, 3)


def test_empty_policy_is_the_identity():
    x = images()
    np.testing.assert_array_equal(tf_diffaug.diff_augment(x, "").numpy(), x)


def test_numpy_integer_seeds_and_non_string_policies():
    images = tf.random.uniform((2, 8, 8, 3), -1, 1)
    layer = tf_diffaug.DiffAugment(seed=np.int64(3))
    assert layer.get_config()["seed"] == 3 and type(layer.get_config()["seed"]) is int
    np.testing.assert_array_equal(layer(images), tf_diffaug.DiffAugment(seed=3)(images))
    np.testing.assert_array_equal(
        tf_diffaug.diff_augment(images, seed=np.int64(5)),
        tf_diffaug.diff_augment(images, seed=5),
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
            {"probability": tf.Variable(0.5)},
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


def test_parameters_for_another_batch_size_fail_when_run_if_the_batch_is_dynamic():
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    params = layer.get_random_transformation(images(batch=4))
    fn = tf.function(
        lambda x: layer.transform_images(x, params),
        input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32)],
    )
    assert fn(images(batch=4)).shape == (4, 16, 16, 3)
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"parameters `brightness` were drawn for another batch size than that of the "
        r"images; draw them with `get_random_transformation\(images\)`",
    ):
        fn(images(batch=3))


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
            layer.transform_images(x, {**params, key: tf.ones(4, tf.bool)})
    # Entries for other ops are ignored (one dict may serve several policies).
    expected = layer.transform_images(x, params)
    extra = {**params, "flip": tf.ones(4, tf.bool), "cutout_applied": tf.ones(4, tf.bool)}
    np.testing.assert_array_equal(layer.transform_images(x, extra), expected)
    gated = {**params, "translation_applied": tf.ones(4, tf.bool)}
    np.testing.assert_array_equal(layer.transform_images(x, gated), expected)
    with pytest.raises(ValueError, match=r"is missing parameters for \['contrast'\]"):
        layer.transform_images(x, {k: v for k, v in params.items() if k != "contrast"})


@pytest.mark.parametrize(
    "probability, message",
    [
        (tf.constant([0.5, 0.5, 0.5, 0.5]), r"scalar float tensor.*Received: shape=\(4,\)"),
        (tf.Variable([[0.5]]), r"scalar float tensor or variable \(one probability for every "),
        (tf.constant(1), r"scalar float tensor.*Received: dtype=int32"),
        (True, r"Received: probability=True \(of type bool\)"),
        ("0.5", r"Received: probability='0.5' \(of type str\)"),
        (2.0, r"`probability` must be in \[0, 1\]\. Received: probability=2\.0"),
    ],
)
def test_call_time_probability_must_be_a_float_or_a_scalar_float_tensor(probability, message):
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    with pytest.raises(ValueError, match=message):
        layer(images(), training=True, probability=probability)
    with pytest.raises(ValueError, match=message):  # at trace time too
        tf.function(lambda x: layer(x, training=True, probability=probability))(images())


@pytest.mark.parametrize("value", [2.0, -1.0, float("nan")])
def test_tensor_probability_out_of_range_fails_when_run(value):
    layer = tf_diffaug.DiffAugment(POLICY, seed=1)
    p = tf.Variable(0.5)
    traced = tf.function(lambda x: layer(x, training=True, probability=p))
    assert traced(images()).shape == (4, 16, 16, 3)
    p.assign(value)
    message = r"probability must be in \[0, 1\]"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        layer(images(), training=True, probability=tf.constant(value))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        traced(images())


def test_tensor_probability_under_xla_is_not_range_checked_and_acts_clipped():
    """XLA drops assertion ops, so the range check is skipped when compiling; a value
    outside [0, 1] then gates as the nearest end would (documented on the layer)."""
    x = images()

    def draw(p):
        layer = tf_diffaug.DiffAugment(POLICY, seed=7)
        return tf.function(lambda v: layer(v, training=True, probability=p), jit_compile=True)(x)

    np.testing.assert_array_equal(draw(tf.constant(2.0)), draw(tf.constant(1.0)))
    np.testing.assert_array_equal(draw(tf.constant(-1.0)), draw(tf.constant(0.0)))
    np.testing.assert_array_equal(draw(tf.constant(0.0)), x)
    graph = tf_diffaug.DiffAugment(POLICY, seed=7)
    p = tf.constant(0.6)
    np.testing.assert_allclose(
        draw(p), tf.function(lambda v: graph(v, training=True, probability=p))(x), atol=1e-6
    )
