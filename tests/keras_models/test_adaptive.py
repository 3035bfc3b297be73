"""Adaptive augmentation strength (keras_models.AdaptiveStrength) and a tensor probability.

The stub discriminator's logit is the mean pixel of its input, and the augmentation is a
flip, which keeps that mean: the sign of D on each real is known in advance whatever the
random draws, so p must follow the formula exactly.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags

import keras_models
import tf_diffaug
from keras_models import build, callbacks, recipes, report
from keras_models.cli import flags as cli_flags
from keras_models.config import ConfigError
from keras_models.run_dir import RunDirectory
from tests.helpers.checks import assert_config_round_trip, two_replica_strategy
from tests.helpers.tensorboard import read_events
from tests.helpers.toy_gan import SIZE, compile_gan, make_gan

BATCH = 8


class MeanLogit(keras.layers.Layer):
    """logit = mean pixel; one weight with a zero gradient, so that D has something for
    its optimizer and never changes."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(), initializer="zeros")

    def call(self, images):
        mean = keras.ops.mean(images, axis=[1, 2, 3])[:, None]
        return mean + 0.0 * self.w


def mean_discriminator():
    images = keras.Input((SIZE, SIZE, 3))
    return keras.Model(images, MeanLogit()(images), name="discriminator")


def reals_with_signs(signs, seed=0):
    """A batch whose image means have the given signs (+1 / -1), well away from 0."""
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(0.2, 0.9, (len(signs), SIZE, SIZE, 3))
    return (np.asarray(signs, np.float32)[:, None, None, None] * magnitude).astype("float32")


def adaptive_gan(strength, d_steps=1, **kwargs):
    return make_gan(
        discriminator=mean_discriminator(),
        augment=tf_diffaug.DiffAugment("flip", seed=2),
        augment_strength=strength,
        d_steps_per_g_step=d_steps,
        ema_decay=None,
        **kwargs,
    )


class PerStep(keras.callbacks.Callback):
    """Records `augment_p` and `r_t` from the logs of every train step."""

    def __init__(self):
        super().__init__()
        self.p, self.r_t = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.p.append(float(logs["augment_p"]))
        self.r_t.append(float(logs["r_t"]))


def fit_steps(gan, reals, steps, callbacks_before=()):
    data = tf.data.Dataset.from_tensors(reals).repeat()
    record = PerStep()
    callbacks = [*callbacks_before, record]
    gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=callbacks)
    return record


def expected_path(initial, steps, interval, images_per_step, speed_kimg, direction):
    """ADA's update in float32, as written in the docstring of AdaptiveStrength."""
    p, path = np.float32(initial), []
    step = np.float32(images_per_step * interval) * np.float32(1.0 / (speed_kimg * 1000.0))
    for i in range(1, steps + 1):
        if i % interval == 0:
            p = np.clip(np.float32(p + np.float32(direction) * step), 0.0, 1.0)
        path.append(float(p))
    return path


@pytest.mark.parametrize(
    "sign, initial, d_steps",
    [(1, 0.0, 1), (1, 0.3, 2), (-1, 0.9, 1), (-1, 0.5, 2)],
)
def test_p_moves_by_the_formula_step_at_every_interval_and_saturates(sign, initial, d_steps):
    # 16 reals shown to D per interval (8 per D step), so 16 * d_steps / 50 per adjustment
    # (d_steps D steps per train step each show D a global batch).
    interval, speed_kimg = 2, 0.05
    strength = keras_models.AdaptiveStrength(
        target=0.6, speed_kimg=speed_kimg, interval=interval, initial=initial
    )
    gan = compile_gan(adaptive_gan(strength, d_steps))
    reals = reals_with_signs([sign] * BATCH * d_steps)
    steps = 14
    record = fit_steps(gan, reals, steps)
    want = expected_path(initial, steps, interval, BATCH * d_steps, speed_kimg, sign)
    assert record.p == want
    assert want[-1] == (1.0 if sign > 0 else 0.0)  # saturated, and stays there
    assert record.r_t[1:] == [float(sign)] * (steps - 1)
    assert record.r_t[0] == 0.0  # no adjustment yet
    assert float(strength.count) == 0.0 and float(strength.sign_sum) == 0.0


def test_r_t_is_the_mean_sign_over_the_interval():
    # Interval of 3 steps over a batch of 5 positive and 3 negative reals: r_t = 2 / 8,
    # below the target, so p falls; with the target below it, p rises.
    reals = reals_with_signs([1, -1, 1, 1, -1, 1, -1, 1])
    for target, direction in ((0.6, -1), (0.1, 1)):
        strength = keras_models.AdaptiveStrength(
            target=target, speed_kimg=0.24, interval=3, initial=0.5
        )
        gan = compile_gan(adaptive_gan(strength))
        record = fit_steps(gan, reals, 4)
        assert record.r_t == [0.0, 0.0, 0.25, 0.25]
        assert record.p == expected_path(0.5, 4, 3, BATCH, 0.24, direction)
        # Mid-interval: the fourth step's signs are counted, not yet used.
        assert (float(strength.sign_sum), float(strength.count)) == (2.0, 8.0)


def test_skipped_steps_count_nothing():
    strength = keras_models.AdaptiveStrength(speed_kimg=0.05, interval=2, initial=0.5)
    gan = compile_gan(adaptive_gan(strength))
    reals = reals_with_signs([1] * BATCH)
    reals[0, 0, 0, 0] = np.nan  # a NaN real: every D step is skipped
    record = fit_steps(gan, reals, 4)
    assert record.p == [0.5] * 4 and record.r_t == [0.0] * 4
    assert float(strength.count) == 0.0 and int(gan.nonfinite_streak) == 4


def test_two_replicas_adjust_with_the_global_mean_and_keep_one_p():
    strategy = two_replica_strategy()
    # Replica 0 sees 4 positive reals (alone: r_t = 1, p up), replica 1 three negative
    # and one positive: globally r_t = (4 - 2) / 8 = 0.25 < 0.6, so p goes down.
    reals = reals_with_signs([1, 1, 1, 1, -1, -1, 1, -1])
    with strategy.scope():
        strength = keras_models.AdaptiveStrength(speed_kimg=0.04, interval=2, initial=0.5)
        gan = compile_gan(adaptive_gan(strength))
    record = fit_steps(gan, reals, 3)
    want = expected_path(0.5, 3, 2, BATCH, 0.04, -1)
    assert record.p == want and want[-1] < 0.5
    assert record.r_t == [0.0, 0.25, 0.25]
    for variable, value in (
        (strength.p, want[-1]),
        (strength.r_t, 0.25),
        (strength.sign_sum, 2.0),  # the third step, counted over both replicas
        (strength.count, 8.0),
    ):
        copies = strategy.experimental_local_results(variable.value)
        assert [float(c) for c in copies] == [value, value]


@pytest.mark.parametrize(
    "variant",
    [pytest.param("jit_compile", marks=pytest.mark.slow), "mixed_float16"],  # XLA: slow
)
def test_the_p_path_is_the_same_under_xla_and_mixed_precision(variant):
    reals = reals_with_signs([1, -1, 1, 1, 1, -1, 1, 1])  # r_t = 0.5 < 0.6: p falls

    def path(**kwargs):
        strength = keras_models.AdaptiveStrength(speed_kimg=0.04, interval=2, initial=0.8)
        return fit_steps(compile_gan(adaptive_gan(strength), **kwargs), reals, 6).p

    reference = path()
    if variant == "jit_compile":
        assert path(jit_compile=True) == reference
        return
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        assert path() == reference
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("via", ["tf_checkpoint", "keras_weights"])
def test_resume_mid_interval_is_bitwise_exact(tmp_path, via):
    # Real D and DiffAugment: p moves with D's training, and the resume happens in the
    # middle of an interval (counts pending).
    data = tf.data.Dataset.from_tensors(
        np.random.default_rng(0).uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype("float32")
    ).repeat()

    def new_gan(weights_seed):
        strength = keras_models.AdaptiveStrength(
            target=0.0, speed_kimg=0.1, interval=2, initial=0.25
        )
        gan = make_gan(weights_seed=weights_seed, augment_strength=strength, ema_decay=0.9)
        return compile_gan(gan)

    def run(gan, steps):
        record = PerStep()
        gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[record])
        return record.p

    gan = new_gan(0)
    first = run(gan, 3)
    path = str(tmp_path / "ckpt")
    if via == "tf_checkpoint":
        path = tf.train.Checkpoint(**gan.checkpoint_items()).write(path)
    else:
        path += ".weights.h5"
        gan.save_weights(path)
    assert float(gan.augment_strength.count) == BATCH  # saved mid-interval
    rest = run(gan, 5)
    expected = [np.array(v) for v in gan.weights]
    assert len(set(first + rest)) > 2  # p really moved

    resumed = new_gan(7)
    if via == "tf_checkpoint":
        tf.train.Checkpoint(**resumed.checkpoint_items()).read(path).assert_consumed()
    else:
        resumed.load_weights(path)
    assert run(resumed, 5) == rest
    for got, want in zip(resumed.weights, expected, strict=True):
        np.testing.assert_array_equal(np.array(got), want)


def test_a_tensor_probability_gates_each_op_with_that_fraction():
    images = tf.zeros((20_000, 8, 8, 3))
    layer = tf_diffaug.DiffAugment("color,translation,cutout", seed=5)
    identity = {"brightness": 0.0, "saturation": 1.0, "contrast": 1.0}
    for p in (0.0, 0.3, 0.85, 1.0):
        t = layer.get_random_transformation(images, probability=keras.Variable(p))
        applied = {name: np.asarray(t[name]) != value for name, value in identity.items()}
        applied["translation"] = np.any(np.asarray(t["translation"]) != 0, axis=1)
        applied["cutout"] = np.asarray(t["cutout_applied"])
        for name, mask in applied.items():
            fraction = mask.mean()
            if name == "translation":  # (0, 0) is also a shift drawn: 1 / 9 at 8 px
                fraction /= 1 - 1 / 9
            assert abs(fraction - p) < 0.015, (name, p, fraction)


def test_a_tensor_probability_draws_what_the_same_float_draws():
    images = tf.zeros((64, 8, 8, 3))
    fixed = tf_diffaug.DiffAugment(probability=0.4, seed=9).get_random_transformation(images)
    driven = tf_diffaug.DiffAugment(seed=9).get_random_transformation(
        images, probability=tf.constant(0.4)
    )
    assert sorted(fixed) == sorted(driven)
    for name in fixed:
        np.testing.assert_array_equal(np.asarray(driven[name]), np.asarray(fixed[name]))


def test_a_fixed_probability_of_one_adds_no_gating():
    images = tf.zeros((4, 8, 8, 3))
    layer = tf_diffaug.DiffAugment(seed=1)

    def op_count(**kwargs):
        fn = tf.function(lambda x: layer(x, training=True, **kwargs))
        return len(fn.get_concrete_function(images).graph.get_operations())

    assert not any(k.endswith("_applied") for k in layer.get_random_transformation(images))
    assert op_count() == op_count(probability=1.0) < op_count(probability=tf.constant(1.0))
    with pytest.raises(ValueError, match=r"`probability` must be in \[0, 1\]"):
        layer(images, training=True, probability=1.5)


def test_strength_config_validation_and_gan_checks():
    strength = keras_models.AdaptiveStrength(target=0.5, speed_kimg=100, interval=8, initial=0.1)
    clone = assert_config_round_trip(strength)
    assert (clone.target, clone.speed_kimg, clone.interval, clone.initial) == (0.5, 100, 8, 0.1)
    for kwargs, message in (
        ({"target": 1.5}, r"Expected `target` in \[-1, 1\]. Received: target=1.5"),
        ({"speed_kimg": 0}, "Expected `speed_kimg` > 0"),
        ({"interval": 0}, "Expected `interval` an integer >= 1"),
        ({"initial": -0.1}, r"Expected `initial` in \[0, 1\]"),
    ):
        with pytest.raises(ValueError, match=message):
            keras_models.AdaptiveStrength(**kwargs)

    class NoProbability(keras.layers.Layer):
        def call(self, images, training=None):
            return images

    with pytest.raises(ValueError, match="takes a `probability` keyword"):
        make_gan(augment=NoProbability(), augment_strength=keras_models.AdaptiveStrength())
    with pytest.raises(ValueError, match="augment_mode='none' augments none"):
        make_gan(augment_mode="none", augment_strength=keras_models.AdaptiveStrength())
    with pytest.raises(ValueError, match="Expected `augment_strength` to be"):
        make_gan(augment_strength=0.5)


# --- logs, metrics.jsonl, report.md, TensorBoard ------------------------------------------


def test_fit_logs_p_to_tensorboard_metrics_jsonl_and_report(tmp_path):
    run = RunDirectory(str(tmp_path / "run"))
    strength = keras_models.AdaptiveStrength(speed_kimg=0.04, interval=2, initial=0.5)
    gan = compile_gan(adaptive_gan(strength))
    reals = reals_with_signs([1] * BATCH)
    recorder = callbacks.StrengthRecorder(run.metrics_path, every_n_steps=2)
    board = keras.callbacks.TensorBoard(run.logs, update_freq=1)
    record = fit_steps(gan, reals, 6, callbacks_before=[recorder, board])
    # Every record carries p and r_t of its step (the epoch logs keep the training value).
    lines = [json.loads(line) for line in open(run.metrics_path)]
    assert [(r["step"], r["augment_p"], r["r_t"]) for r in lines] == [
        (step, record.p[step - 1], record.r_t[step - 1]) for step in (2, 4, 6)
    ]
    assert record.p[-1] == 1.0
    # A step written twice (recorded again after a resume) counts once, as last written.
    with open(run.metrics_path, "a") as f:
        f.write(json.dumps({**lines[1], "augment_p": 0.25}) + "\n")
    assert [r["augment_p"] for r in report.strength_history(run.metrics_path)] == [
        record.p[1],
        0.25,
        1.0,
    ]
    config = recipes.resolve("demo_adaptive")
    report.write_report(run, config, {"augment_p": [1.0]})
    text = open(run.report_path).read()
    assert "| 6 | 1.0000 | 1.000 |" in text.split("| step | p | r_t |")[1]
    assert f"![adaptive p and r_t over training]({report.STRENGTH_FIGURE})" in text
    figure = os.path.join(run.path, report.STRENGTH_FIGURE)
    assert open(figure, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    events = read_events(os.path.join(run.logs, "train"))
    assert {"epoch_augment_p", "epoch_r_t"} <= set(events.Tags()["tensors"])


def test_strength_recorder_records_nothing_without_a_controller(tmp_path):
    path = str(tmp_path / "metrics.jsonl")
    gan = compile_gan(make_gan(discriminator=mean_discriminator(), ema_decay=None))
    data = tf.data.Dataset.from_tensors(reals_with_signs([1] * BATCH)).repeat()
    gan.fit(
        data,
        epochs=1,
        steps_per_epoch=2,
        verbose=0,
        callbacks=[callbacks.StrengthRecorder(path, 1)],
    )
    assert not os.path.exists(path)
    assert report.strength_history(path) == []


def test_report_table_shows_at_most_strength_rows_and_the_last(tmp_path):
    run = RunDirectory(str(tmp_path / "run"))
    os.makedirs(run.path, exist_ok=True)
    with open(run.metrics_path, "w") as f:
        for step in range(1, 46):
            f.write(json.dumps({"step": step, "augment_p": step / 45, "r_t": 0.5}) + "\n")
    report.write_report(run, recipes.resolve("demo_adaptive"), {})
    table = open(run.report_path).read().split("| step | p | r_t |")[1]
    steps = [int(row.split("|")[1]) for row in table.strip().splitlines()[1:]]
    assert steps == [*range(1, 46, 3), 45]
    assert len(steps) <= report.STRENGTH_ROWS + 1


# --- train.py configuration ---------------------------------------------------------------


def test_augment_p_flag_and_config():
    values = flags.FlagValues()
    cli_flags.define_flags(values)
    values(["train.py", "--augment_p=adaptive", "--ada_kimg=20", "--ada_interval=8"])
    overrides = cli_flags.flag_overrides(values)
    assert overrides == {"augment_p": "adaptive", "ada_kimg": 20.0, "ada_interval": 8}
    values(["train.py", "--augment_p=0.5"])
    assert values["augment_p"].value == 0.5
    with pytest.raises(flags.IllegalFlagValueError, match="Expected a float or adaptive"):
        values(["train.py", "--augment_p=sometimes"])

    adaptive = build.build_gan(recipes.resolve("demo", {**overrides, "width": 1}))
    strength = adaptive.augment_strength
    assert (strength.target, strength.speed_kimg, strength.interval) == (0.6, 20.0, 8)
    demo_adaptive = recipes.resolve("demo_adaptive")
    assert (demo_adaptive.ada_kimg, demo_adaptive.ada_target) == (4.0, 0.1)
    assert recipes.resolve("demo").ada_target == 0.6  # ADA's, wherever not calibrated
    fixed = build.build_gan(recipes.resolve("demo", {"augment_p": 0.5, "width": 1}))
    assert fixed.augment_strength is None and fixed.augment.probability == 0.5
    assert all(
        recipes.resolve(name).augment_p == 1.0
        for name in recipes.RECIPES
        if name != "demo_adaptive"
    )
    for overrides, message in (
        ({"augment_p": 1.5}, "Expected augment_p 'adaptive' or a probability in [0, 1]."),
        ({"augment_p": "always"}, "Received: augment_p='always'."),
        ({"augment_p": "adaptive", "policy": ""}, "Expected a policy and an augment_mode"),
        ({"ada_target": 1.5}, "Expected ada_target <= 1."),
        ({"ada_kimg": 0}, "Expected ada_kimg > 0."),
    ):
        with pytest.raises(ConfigError) as error:
            recipes.resolve("demo", overrides)
        assert message in str(error.value)
