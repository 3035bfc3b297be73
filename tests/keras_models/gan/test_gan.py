"""Tests of keras_models.GAN: each asserts a property that a wrong implementation breaks."""

import os
import subprocess
import sys
import tempfile
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import tf_diffaug
from keras_models.callbacks import NonFiniteGuard
from tests.helpers.checks import one_replica_strategy, two_replica_strategy
from tests.helpers.readme import readme_blocks
from tests.helpers.toy_gan import (
    BATCH,
    LATENT_DIM,
    NUM_CLASSES,
    SIZE,
    Shift,
    compile_gan,
    dataset,
    make_discriminator,
    make_gan,
    make_generator,
    real_batch,
    state,
)


class Spy(keras.layers.Layer):
    """An `augment` layer that records which images it sees and in which step."""

    def __init__(self, reals):
        super().__init__()
        self.reals, self.seen, self.gan = reals, [], lambda: None

    def call(self, images, training=None):
        gan = self.gan()
        # The D optimizer has made one more update than the G optimizer during the G step.
        d_ahead = int(gan.d_optimizer.iterations) - int(gan.g_optimizer.iterations)
        kind = "real" if np.array_equal(np.asarray(images), self.reals) else "fake"
        self.seen.append((kind, "G" if d_ahead else "D"))
        return images


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("diffaugment", [("real", "D"), ("fake", "D"), ("fake", "G")]),
        ("discriminator_only", [("real", "D"), ("fake", "D")]),
        ("reals_only", [("real", "D")]),
        ("none", []),
    ],
)
def test_augmentation_is_applied_where_the_mode_says(mode, expected):
    reals = real_batch()
    spy = Spy(reals)
    gan = make_gan(augment=spy, augment_mode=mode)
    spy.gan = lambda: gan
    compile_gan(gan, run_eagerly=True)
    gan.fit(dataset(reals), epochs=1, steps_per_epoch=2, verbose=0)
    assert spy.seen == expected * 2


def test_evaluate_neither_augments_nor_updates():
    reals = real_batch()
    spy = Spy(reals)
    gan = compile_gan(make_gan(augment=spy))
    before = state(gan)
    logs = gan.evaluate(dataset(reals), steps=2, verbose=0, return_dict=True)
    assert spy.seen == []
    assert {"d_loss", "g_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"} <= set(logs)
    for got, want in zip(state(gan), before, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("compact", [True, False])
def test_d_steps_per_g_step_splits_the_batch_between_discriminator_updates(compact):
    discriminator = Recording(make_discriminator(NUM_CLASSES))
    gan = make_gan(
        NUM_CLASSES,
        discriminator=discriminator,
        d_steps_per_g_step=2,
        fake_labels="reals",
        augment_mode="none",  # D sees the reals as they are
    )
    gan.compact_d_steps = compact
    compile_gan(gan, run_eagerly=True)
    discriminator.calls.clear()
    images, labels = real_batch(NUM_CLASSES)
    gan.fit(dataset((images, labels)), epochs=1, steps_per_epoch=3, verbose=0)
    assert int(gan.d_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 3
    # Per train step: (fakes, reals) for each D step, then the G step's fakes. Each D step
    # sees its own half of the batch, in order, with its labels; G uses the last half's.
    calls = discriminator.calls[:5]
    half = BATCH // 2
    for step, (fakes, reals) in enumerate([calls[0:2], calls[2:4]]):
        np.testing.assert_array_equal(reals[0], images[step * half : (step + 1) * half])
        np.testing.assert_array_equal(reals[1], labels[step * half : (step + 1) * half])
        assert len(fakes[0]) == half
    np.testing.assert_array_equal(calls[4][1], labels[half:])


def _generator_update(mode, policy="color,translation,cutout", loss="hinge", discriminator=None):
    """The change of G's weights after one step with SGD(1) on G and a frozen D: -dL/dG."""
    gan = make_gan(
        augment=tf_diffaug.DiffAugment(policy, seed=3),
        augment_mode=mode,
        loss=loss,
        discriminator=discriminator,
        ema_decay=None,
    )
    compile_gan(gan, keras.optimizers.SGD(0.0), keras.optimizers.SGD(1.0))
    before = [np.array(w) for w in gan.generator.trainable_weights]
    gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=1, verbose=0)
    return [np.array(w) - b for w, b in zip(gan.generator.trainable_weights, before, strict=True)]


def _linear_discriminator(zero_sum):
    keras.utils.set_random_seed(5)
    images = keras.Input((SIZE, SIZE, 3))
    dense = keras.layers.Dense(1)
    discriminator = keras.Model(images, dense(keras.layers.Flatten()(images)))
    half = np.random.default_rng(5).normal(size=(SIZE * SIZE * 3 // 2, 1)).astype("float32")
    # Weights in +a, -a pairs: their sum is exactly zero, so D(x + b) = D(x) per sample.
    kernel = np.concatenate([half, -half if zero_sum else half])
    dense.kernel.assign(kernel)
    return discriminator


def test_generator_gradients_flow_through_the_augmentation():
    augmented = _generator_update("diffaugment")
    plain = _generator_update("none")
    assert all(np.abs(g).max() > 0 for g in augmented)
    assert max(np.abs(a - p).max() for a, p in zip(augmented, plain, strict=True)) > 1e-4


@pytest.mark.parametrize("loss", ["hinge", "non_saturating"])
def test_brightness_cancels_under_a_zero_sum_linear_discriminator(loss):
    # D(x + b) = D(x) and dT/dx = I, so DiffAugment must not change G's gradients.
    updates = {
        mode: _generator_update(mode, "brightness", loss, _linear_discriminator(zero_sum=True))
        for mode in ("diffaugment", "none")
    }
    for augmented, plain in zip(updates["diffaugment"], updates["none"], strict=True):
        np.testing.assert_allclose(augmented, plain, rtol=1e-5, atol=1e-7)
    if loss == "hinge":  # the hinge G loss has a constant gradient: exactly equal
        for augmented, plain in zip(updates["diffaugment"], updates["none"], strict=True):
            np.testing.assert_array_equal(augmented, plain)
    # Control: when the weights do not sum to zero the brightness shift changes the
    # logits, hence the non-saturating gradients; the equality above is not vacuous.
    if loss == "non_saturating":
        shifted = _generator_update(
            "diffaugment", "brightness", loss, _linear_discriminator(zero_sum=False)
        )
        unshifted = _generator_update(
            "none", "brightness", loss, _linear_discriminator(zero_sum=False)
        )
        assert max(np.abs(s - u).max() for s, u in zip(shifted, unshifted, strict=True)) > 1e-6


@pytest.fixture(scope="module")
def mirrored():
    # One MirroredStrategy for the module: with a second instance in the same process, a
    # later step failed with mismatched collective instance keys (TF 2.21, CPU).
    return two_replica_strategy()


def _fit_under(strategy, steps=2):
    data = real_batch(NUM_CLASSES)
    with strategy.scope():
        gan = make_gan(
            NUM_CLASSES,
            augment=Shift(),
            r1_gamma=1.0,
            r1_interval=2,  # step 0 with R1, step 1 without: both branches of the cond
            consistency_weight=0.5,
            ema_decay=0.9,
        )
        # SGD, not Adam: Adam's update is invariant to the scale of the gradients, so it
        # would hide a loss divided by the per-replica instead of the global batch.
        compile_gan(gan, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    history = gan.fit(dataset(data), epochs=1, steps_per_epoch=steps, verbose=0)
    return history.history, state(gan)


def test_one_and_two_replicas_give_the_same_step(mirrored):
    logs_1, weights_1 = _fit_under(one_replica_strategy())
    logs_2, weights_2 = _fit_under(mirrored)
    assert sorted(logs_1) == sorted(logs_2)
    for name in logs_1:
        np.testing.assert_allclose(logs_2[name], logs_1[name], rtol=1e-5, atol=1e-6, err_msg=name)
    for w2, w1 in zip(weights_2, weights_1, strict=True):
        np.testing.assert_allclose(w2, w1, rtol=1e-5, atol=1e-6)


def test_jit_compiled_step_is_reproducible():
    # XLA draws other random numbers than the TF kernels for the same seeds, so XLA is
    # compared with itself: restoring the checkpointed state (seeds included) and running
    # the same compiled steps again must give the same weights, through the lazy-R1
    # `tf.cond` and the non-finite guard.
    gan = compile_gan(make_gan(r1_gamma=1.0, r1_interval=2, ema_decay=0.9), jit_compile=True)
    checkpoint = tf.train.Checkpoint(**gan.checkpoint_items())
    start = checkpoint.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
    runs = []
    for _ in range(2):
        checkpoint.restore(start)
        history = gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=2, verbose=0)
        runs.append((history.history, state(gan)))
    assert gan.jit_compile
    assert runs[0][0] == runs[1][0]
    assert all(np.isfinite(v[0]) for v in runs[0][0].values()) and runs[0][0]["r1"][0] > 0
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


class CountingRegularizer(keras.layers.Layer):
    """A stateful G regulariser (like StyleGAN2's path-length moving average): its
    penalty grows with the number of calls, so a resume that loses the count diverges."""

    def __init__(self, value=None):
        super().__init__()
        self.value = value
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def __call__(self, gan, latents, labels, images):
        self.calls.assign_add(1.0)
        penalty = 1e-2 * self.calls * tf.reduce_mean(tf.square(images), axis=[1, 2, 3])
        return penalty if self.value is None else tf.fill(tf.shape(penalty), self.value)


@pytest.mark.parametrize("via", ["tf_checkpoint", "keras_weights"])
def test_resume_is_exact(tmp_path, via):
    data = dataset(real_batch(NUM_CLASSES))

    def new_gan(weights_seed):
        return compile_gan(
            make_gan(
                NUM_CLASSES,
                weights_seed,
                r1_gamma=1.0,
                ema_decay=0.9,
                generator=make_generator(NUM_CLASSES, batch_norm=True),
                g_regularizer=CountingRegularizer(),
            )
        )

    gan = new_gan(0)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    path = str(tmp_path / "ckpt")
    if via == "tf_checkpoint":
        path = tf.train.Checkpoint(**gan.checkpoint_items()).write(path)
    else:  # what keras.callbacks.BackupAndRestore writes and reads
        path += ".weights.h5"
        gan.save_weights(path)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    expected = state(gan)

    resumed = new_gan(7)  # different initial weights and seeds: all must come from the file
    if via == "tf_checkpoint":
        tf.train.Checkpoint(**resumed.checkpoint_items()).read(path).assert_consumed()
    else:
        resumed.load_weights(path)
    resumed.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    for got, want in zip(state(resumed), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert int(resumed.train_steps) == 4
    assert float(resumed.g_regularizer.calls) == float(gan.g_regularizer.calls) == 4.0


class Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_exactly(tmp_path):
    data = dataset(real_batch(NUM_CLASSES))

    def new_gan(weights_seed):
        return compile_gan(make_gan(NUM_CLASSES, weights_seed, r1_gamma=1.0, ema_decay=0.9))

    gan = new_gan(0)
    gan.fit(data, epochs=2, steps_per_epoch=2, verbose=0)
    expected = state(gan)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(KeyboardInterrupt):  # interrupted after the first epoch's backup
        new_gan(0).fit(
            data, epochs=2, steps_per_epoch=2, verbose=0, callbacks=[backup, Interrupt()]
        )
    resumed = new_gan(7)
    resumed.fit(data, epochs=2, steps_per_epoch=2, verbose=0, callbacks=[backup])
    for got, want in zip(state(resumed), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_nonfinite_steps_change_no_variable_and_are_counted():
    # Batch norm in G and D: the forward passes of a skipped step update their moving
    # statistics (and the regulariser its count), which must be put back as well.
    gan = compile_gan(
        make_gan(
            generator=make_generator(batch_norm=True),
            discriminator=make_discriminator(batch_norm=True),
            g_regularizer=CountingRegularizer(value=np.nan),
        )
    )
    reals = real_batch()
    reals[0, 0, 0, 0] = np.nan  # a NaN real makes the D loss NaN
    before = state(gan)
    history = gan.fit(dataset(reals), epochs=1, steps_per_epoch=2, verbose=0)
    for got, want in zip(state(gan), before, strict=True):
        np.testing.assert_array_equal(got, want)
    assert float(gan.g_regularizer.calls) == 0.0
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 0
    assert history.history["nonfinite_steps"] == [2.0]
    assert int(gan.nonfinite_streak) == 2
    assert np.isfinite(history.history["d_loss"][0])  # skipped steps are not averaged in


def test_a_nonfinite_loss_on_one_replica_skips_the_update_on_all(mirrored):
    strategy = mirrored
    with strategy.scope():
        gan = compile_gan(make_gan(ema_decay=None))
    reals = real_batch()
    reals[0, 0, 0, 0] = np.nan  # only in the first replica's half of the batch
    d_before = [np.array(w) for w in gan.discriminator.weights]
    gan.fit(dataset(reals), epochs=1, steps_per_epoch=1, verbose=0)
    for weight, want in zip(gan.discriminator.weights, d_before, strict=True):
        for copy in strategy.experimental_local_results(weight.value):
            np.testing.assert_array_equal(np.array(copy), want)
    read = keras.ops.convert_to_numpy  # int() does not take a mirrored variable
    assert read(gan.nonfinite_streak) == 1 and read(gan.g_optimizer.iterations) == 1


def test_nonfinite_guard_stops_training_and_names_the_checkpoint(tmp_path):
    gan = compile_gan(make_gan())
    checkpoint = tf.train.Checkpoint(**gan.checkpoint_items())
    saved = checkpoint.save(str(tmp_path / "ckpt"))
    good = real_batch()
    gan.fit(dataset(good), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(gan.nonfinite_streak) == 0
    bad = np.full_like(good, np.nan)
    with pytest.warns(RuntimeWarning, match=f"3 consecutive.*{saved}"):
        gan.fit(
            dataset(bad),
            epochs=1,
            steps_per_epoch=10,
            verbose=0,
            callbacks=[NonFiniteGuard(3, checkpoint_dir=str(tmp_path))],
        )
    assert int(gan.train_steps) == 1 + 3


def test_r1_matches_finite_differences():
    gan = compile_gan(make_gan(augment_mode="none", r1_gamma=1.0, ema_decay=None))
    reals = real_batch().astype("float64")
    discriminator = lambda x: gan.discriminator(tf.constant(x, tf.float32)).numpy()[:, 0]
    eps = 1e-2
    squared_norms = np.zeros(BATCH)
    for index in np.ndindex(reals.shape[1:]):  # central differences, every sample at once
        step = np.zeros_like(reals)
        step[(slice(None), *index)] = eps
        # D is piecewise linear (LeakyReLU), so double precision steps are not needed.
        derivative = (discriminator(reals + step) - discriminator(reals - step)) / (2 * eps)
        squared_norms += derivative**2
    history = gan.fit(dataset(reals.astype("float32")), epochs=1, steps_per_epoch=1, verbose=0)
    np.testing.assert_allclose(history.history["r1"][0], squared_norms.mean(), rtol=1e-3)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_scales_losses_and_keeps_logits_float32(policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        gan = compile_gan(make_gan())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    scaled = policy == "mixed_float16"  # bfloat16 has float32's range: no loss scaling
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    logits, _ = gan.discriminate(gan.generate(2), role="clean", training=False)
    assert logits.dtype == tf.float32
    before = state(gan)
    history = gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=2, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert any(not np.array_equal(a, b) for a, b in zip(state(gan), before, strict=True))


def test_export_loads_in_a_fresh_process_without_the_project(tmp_path):
    gan = compile_gan(make_gan(NUM_CLASSES, ema_decay=0.5))
    gan.fit(dataset(real_batch(NUM_CLASSES)), epochs=1, steps_per_epoch=2, verbose=0)
    latents = np.random.default_rng(0).normal(size=(4, LATENT_DIM)).astype("float32")
    labels = np.array([0, 1, 2, 1], "int32")
    expected = gan.generate(latents, labels).numpy()
    # The EMA generator is what is exported, and it differs from the raw generator.
    assert not np.allclose(expected, gan.generate(latents, labels, use_ema=False).numpy())
    export_dir = str(tmp_path / "generator")
    gan.export_generator(export_dir)
    np.save(tmp_path / "latents.npy", latents)
    np.save(tmp_path / "labels.npy", labels)
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        serve = tf.saved_model.load({export_dir!r}).signatures["serving_default"]
        out = serve(latents=tf.constant(np.load({str(tmp_path / "latents.npy")!r})),
                    labels=tf.constant(np.load({str(tmp_path / "labels.npy")!r})))
        np.save({str(tmp_path / "images.npy")!r}, out["images"].numpy())
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=str(tmp_path), env=env)
    images = np.load(tmp_path / "images.npy")
    np.testing.assert_allclose(images, expected, rtol=1e-6, atol=1e-6)
    assert images.shape == (4, SIZE, SIZE, 3) and np.abs(images).max() <= 1.0


def test_conditional_dataset_without_labels_is_rejected():
    gan = compile_gan(make_gan(NUM_CLASSES))
    with pytest.raises(ValueError, match="expects a dataset of \\(images, labels\\)"):
        gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=1, verbose=0)


@pytest.mark.parametrize("bad_label", [NUM_CLASSES, -1])
def test_labels_outside_the_classes_are_named_before_the_embedding_lookup(bad_label):
    gan = compile_gan(make_gan(NUM_CLASSES))
    images, labels = real_batch(NUM_CLASSES)
    labels[3] = bad_label
    expected = f"Expected class labels in \\[0, num_classes={NUM_CLASSES}\\). Received:"
    with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
        gan.fit(dataset((images, labels)), epochs=1, steps_per_epoch=1, verbose=0)


def test_readme_example(tmp_path, monkeypatch):
    """The README's complete GAN example (own G and D + GAN + DiffAugment + fit + export)."""
    example = next(b for b in readme_blocks() if "gan.export_generator(" in b)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)
    history, samples = namespace["history"].history, namespace["samples"].numpy()
    assert {"d_loss", "g_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"} <= set(history)
    assert samples.shape == (16, 32, 32, 3) and np.abs(samples).max() <= 1.0
    serve = tf.saved_model.load("generator_savedmodel").signatures["serving_default"]
    latents = np.random.default_rng(0).normal(size=(2, 64)).astype("float32")
    np.testing.assert_allclose(
        serve(latents=tf.constant(latents))["images"].numpy(),
        namespace["gan"].generate(latents).numpy(),
        rtol=1e-6,
        atol=1e-6,
    )


class Recording(keras.Model):
    """Wraps a network and records the inputs of every call (run eagerly)."""

    def __init__(self, network, joint_discriminator_pass=False):
        super().__init__()
        self.network, self.calls = network, []
        self.joint_discriminator_pass = joint_discriminator_pass

    def call(self, inputs, training=None):
        self.calls.append([np.asarray(x) for x in inputs])
        return self.network(inputs, training=training)


def _recorded_fit(fake_labels, joint=False, **kwargs):
    generator = Recording(make_generator(NUM_CLASSES))
    discriminator = Recording(make_discriminator(NUM_CLASSES), joint)
    gan = make_gan(
        NUM_CLASSES,
        generator=generator,
        discriminator=discriminator,
        augment=Shift(),
        fake_labels=fake_labels,
        ema_decay=None,
        **kwargs,
    )
    # No updates: the logs of both steps then compare scoring, not the D update.
    compile_gan(gan, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), run_eagerly=True)
    generator.calls.clear()
    discriminator.calls.clear()
    reals, labels = real_batch(NUM_CLASSES)
    history = gan.fit(dataset((reals, labels)), epochs=1, steps_per_epoch=1, verbose=0)
    return history.history, generator.calls, discriminator.calls, labels


def test_fake_labels_are_drawn_uniformly_for_every_step_as_the_reference():
    _, g_calls, d_calls, labels = _recorded_fit("random")
    (d_step_g, g_step_g), (d_fakes, d_reals, g_fakes) = g_calls, d_calls
    np.testing.assert_array_equal(d_reals[1], labels)
    # D scores the fakes with the labels G generated them for, in both steps.
    np.testing.assert_array_equal(d_fakes[1], d_step_g[1])
    np.testing.assert_array_equal(g_fakes[1], g_step_g[1])
    # Fresh uniform draws: neither the reals' labels nor each other.
    assert not np.array_equal(d_step_g[1], labels)
    assert not np.array_equal(g_step_g[1], d_step_g[1])
    assert set(d_step_g[1]) | set(g_step_g[1]) == set(range(NUM_CLASSES))


def test_fake_labels_reals_reuses_the_labels_of_the_reals():
    _, g_calls, d_calls, labels = _recorded_fit("reals")
    for call in g_calls + d_calls:
        np.testing.assert_array_equal(call[1], labels)


def test_joint_discriminator_pass_scores_fakes_and_reals_in_one_call():
    separate, _, separate_calls, _ = _recorded_fit("reals", consistency_weight=1.0)
    joint, _, joint_calls, labels = _recorded_fit("reals", joint=True, consistency_weight=1.0)
    # Separate: fakes, reals, consistency images, then the G step. Joint: one D-step call
    # on the concatenation [fakes, reals, consistency images], then the G step.
    assert [len(c[0]) for c in separate_calls] == [BATCH] * 4
    assert [len(c[0]) for c in joint_calls] == [3 * BATCH, BATCH]
    np.testing.assert_array_equal(joint_calls[0][1], np.concatenate([labels] * 3))
    # The same D weights score the same images: the logs agree.
    for name in ("d_loss", "d_real_logits", "d_fake_logits", "consistency", "g_loss"):
        np.testing.assert_allclose(joint[name], separate[name], rtol=1e-5, err_msg=name)


def test_backbones_declare_whether_reals_and_fakes_share_a_pass():
    from keras_models import biggan, stylegan2

    assert biggan.Discriminator.joint_discriminator_pass is True  # BigGAN's G_D
    # Minibatch standard deviation must not mix reals and fakes.
    assert getattr(stylegan2.Discriminator, "joint_discriminator_pass", False) is False


class Halve(keras.layers.Layer):
    def call(self, images, training=None):
        return images * 0.5


def _first_step_logs(**kwargs):
    gan = make_gan(augment=Shift(), ema_decay=None, **kwargs)
    compile_gan(gan, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    reals = real_batch()
    logs = gan.fit(dataset(reals), epochs=1, steps_per_epoch=1, verbose=0).history
    d = lambda x: gan.discriminator(tf.constant(x), training=False).numpy()[:, 0]
    return {name: value[0] for name, value in logs.items()}, reals, d


def test_r1_with_respect_to_the_reals_goes_through_the_augmentation():
    # T(x) = roll(x) / 2 + 0.1, so d D(T(x)) / dx = roll^T(dD/dT(x)) / 2: a quarter of the
    # squared norm of the gradient with respect to the augmented images.
    augmented, _, _ = _first_step_logs(r1_gamma=1.0, r1_inputs="augmented")
    reals, _, _ = _first_step_logs(r1_gamma=1.0, r1_inputs="reals")
    assert augmented["r1"] > 0
    np.testing.assert_allclose(reals["r1"], augmented["r1"] / 4, rtol=1e-5)


@pytest.mark.parametrize("consistency_augment", [None, Halve()])
def test_consistency_compares_the_reference_pairs(consistency_augment):
    logs, reals, d = _first_step_logs(
        consistency_weight=1.0, consistency_augment=consistency_augment
    )
    augmented = Shift()(reals).numpy()
    if consistency_augment is None:  # (D(x) - D(T(x)))^2
        expected = np.mean((d(reals) - d(augmented)) ** 2)
    else:  # (D(T'(T(x))) - D(T(x)))^2, T' applied on top of the augmented reals
        expected = np.mean((d(augmented * 0.5) - d(augmented)) ** 2)
    np.testing.assert_allclose(logs["consistency"], expected, rtol=1e-4)


def test_the_ema_generator_samples_with_standing_statistics(tmp_path):
    gan = compile_gan(make_gan(generator=make_generator(batch_norm=True), ema_decay=0.9))
    # EMA weights that differ from G's, as after training: G's moving statistics (here
    # the initial 0 / 1) do not describe the EMA generator's activations.
    pairs = zip(gan.ema_generator.weights, gan.generator.weights, strict=True)
    averages = [average for average, weight in pairs if weight.trainable]
    assert averages
    for average in averages:
        average.assign(average * 1.2 + 0.05)
    latents = np.random.default_rng(0).normal(size=(64, LATENT_DIM)).astype("float32")
    # The reference's sampling: a trainable copy of the EMA generator in train mode.
    reference = keras.models.clone_model(gan.ema_generator)
    reference.set_weights(gan.ema_generator.get_weights())
    for layer in reference.layers:  # (a frozen BatchNormalization uses moving statistics)
        layer.trainable = True
    in_batch = reference(latents, training=True).numpy()
    assert not np.allclose(in_batch, gan.ema_generator(latents, training=False).numpy())
    alone = np.concatenate([gan.generate(latents[i : i + 1]).numpy() for i in range(64)])
    np.testing.assert_allclose(alone.mean(), in_batch.mean(), atol=0.03)
    np.testing.assert_allclose(alone.std(), in_batch.std(), rtol=0.05)
    seeds = [np.array(s.state) for s in (gan.seed_generator, gan.sample_seed_generator)]
    np.testing.assert_array_equal(gan.generate(latents).numpy(), gan.generate(latents).numpy())
    gan.update_standing_statistics()  # repeatable, and moves no random stream
    np.testing.assert_allclose(gan.generate(latents).numpy(), alone, rtol=1e-5, atol=1e-5)
    for seed, before in zip((gan.seed_generator, gan.sample_seed_generator), seeds, strict=True):
        np.testing.assert_array_equal(np.array(seed.state), before)
    gan.export_generator(str(tmp_path / "export"))
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    np.testing.assert_allclose(
        serve(latents=tf.constant(latents))["images"].numpy(), alone, rtol=1e-5, atol=1e-5
    )


def _fit_d_steps(compact, d_steps=4, jit_compile=False, steps=2):
    gan = make_gan(
        NUM_CLASSES, d_steps_per_g_step=d_steps, r1_gamma=1.0, r1_interval=2, ema_decay=0.9
    )
    gan.compact_d_steps = compact
    # SGD: Adam's first steps are +-lr wherever a gradient is float noise, which would
    # turn the loop's different (but equally exact) fusion into visible differences.
    compile_gan(gan, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=jit_compile)
    data = dataset(real_batch(NUM_CLASSES, batch=BATCH * d_steps), batch=BATCH * d_steps)
    history = gan.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return gan, history.history


def _train_graph_size(gan):
    """Ops in the traced train step, its nested functions (loop bodies) included."""
    batch = next(iter(dataset(real_batch(NUM_CLASSES, batch=BATCH * gan.d_steps_per_g_step))))
    graph = tf.function(gan.train_step).get_concrete_function(batch).graph
    nested = sum(len(f.node_def) for f in graph.as_graph_def().library.function)
    return len(graph.get_operations()) + nested


def test_d_steps_in_a_loop_equal_the_unrolled_steps():
    compact, compact_logs = _fit_d_steps(True)
    unrolled, unrolled_logs = _fit_d_steps(False)
    # Equal up to float reassociation: Grappler optimises the loop body on its own.
    for name in unrolled_logs:
        np.testing.assert_allclose(compact_logs[name], unrolled_logs[name], rtol=1e-5, atol=1e-7)
    assert int(compact.d_optimizer.iterations) == 8 and int(compact.g_optimizer.iterations) == 2
    for got, want in zip(state(compact), state(unrolled), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert compact._d_steps_in_a_loop() and not unrolled._d_steps_in_a_loop()


def test_d_steps_are_unrolled_under_xla():
    # XLA's CPU backend ran the loop about 70x slower than the unrolled steps.
    gan, _ = _fit_d_steps(True, jit_compile=True, steps=1)
    assert gan.jit_compile and not gan._d_steps_in_a_loop()


def test_the_traced_train_step_does_not_grow_with_the_d_steps():
    one, four = (_train_graph_size(_fit_d_steps(True, d_steps)[0]) for d_steps in (1, 4))
    unrolled = _train_graph_size(_fit_d_steps(False, 4)[0])
    assert four < 1.3 * one < unrolled


@pytest.mark.parametrize("compact", [True, False])
def test_random_streams_advance_under_xla_with_lazy_r1(compact):
    # Regression: with the augmentation inside the lazy-R1 `tf.cond`, XLA dropped the
    # seed updates of a conditional GAN, so every step reused the same draws.
    gan = make_gan(NUM_CLASSES, d_steps_per_g_step=2, r1_gamma=1.0, r1_interval=2)
    gan.compact_d_steps = compact
    compile_gan(gan, keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), jit_compile=True)
    data = dataset(real_batch(NUM_CLASSES, batch=2 * BATCH), batch=2 * BATCH)
    gan.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    # Per train step: latents and labels for 2 D steps and the G step (6 draws); the
    # augmentation for reals and fakes of 2 D steps and the G step's fakes (5 draws).
    assert int(gan.seed_generator.state[1]) == 2 * 6
    assert int(gan.augment.seed_generator.state[1]) == 2 * 5


def test_the_path_length_average_is_checkpointed():
    from keras_models.stylegan2 import PathLengthRegularizer

    regularizer = PathLengthRegularizer(interval=2, batch_shrink=3)
    gan = compile_gan(make_gan(g_regularizer=regularizer))
    assert any(w is regularizer.mean_length for w in gan.checkpoint_items()["other_weights"])
    revived = PathLengthRegularizer.from_config(regularizer.get_config())
    assert (revived.interval, revived.batch_shrink) == (2, 3)


def test_mismatched_networks_and_batches_are_named():
    small_d = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    with pytest.raises(ValueError, match=r"generator makes images of shape \(8, 8, 3\)"):
        make_gan(discriminator=small_d)

    class Refusing(keras.Model):  # Keras wraps its error in "Could not ... infer ..."
        def call(self, images):
            raise ValueError("SelfAttention expects C >= 8.")

    with pytest.raises(ValueError, match=r"\(8, 8, 3\); calling .* failed: SelfAttention expects"):
        make_gan(discriminator=Refusing())
    gan = compile_gan(make_gan(d_steps_per_g_step=3))
    with pytest.raises(ValueError, match="batch divisible by d_steps_per_g_step=3.*batch of 8"):
        gan.fit(dataset(real_batch()), epochs=1, steps_per_epoch=1, verbose=0)
