"""keras_models.callbacks: each callback writes what it promises during a tiny fit.

A stand-in GAN (the attributes the callbacks use: generate, discriminate, latent_dim,
num_classes) keeps these tests independent of keras_models.gan.
"""

import json
import os
import shutil
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_models import callbacks, conditioning, data, images, metrics
from keras_models.gan import GAN
from tests.helpers.tensorboard import read_events
from tests.helpers.tiny_inception import build_tiny_inception

SIDE = 16


class StandInGAN(keras.Model):
    """G: dense -> tanh image; D: any model. `train_step` drifts G by `drift` per step."""

    def __init__(self, discriminator=None, num_classes=None, drift=0.05):
        super().__init__()
        self.latent_dim = 4
        self.num_classes = num_classes
        self.drift = drift
        self.roles = []
        self.generator = keras.Sequential(
            [
                keras.Input((self.latent_dim,)),
                keras.layers.Dense(SIDE * SIDE * 3, activation="tanh"),
                keras.layers.Reshape((SIDE, SIDE, 3)),
            ]
        )
        self.d = discriminator or keras.Sequential(
            [keras.Input((SIDE, SIDE, 3)), keras.layers.Flatten(), keras.layers.Dense(1)]
        )
        self.discriminator = self.d
        self.built = True  # like GAN, whose networks are built in __init__

    def generate(self, num_or_latents, labels=None, use_ema=True):
        assert use_ema
        return self.generator(tf.convert_to_tensor(num_or_latents), training=False)

    def discriminate(self, images, labels=None, *, role, training=True):
        """As `GAN.discriminate`: the only way the callbacks may run D."""
        self.roles.append((role, training))
        logits = self.d(conditioning.pack(images, labels), training=training)
        return tf.reshape(logits, [-1]), images

    def train_step(self, data):
        for weight in self.generator.trainable_weights:
            weight.assign_add(self.drift * tf.ones_like(weight))
        return {"loss": tf.constant(0.0)}


def _fit(model, steps, cbs):
    model.compile()
    ds = tf.data.Dataset.from_tensors(tf.zeros((2, SIDE, SIDE, 3))).repeat()
    return model.fit(ds, epochs=1, steps_per_epoch=steps, callbacks=cbs, verbose=0, shuffle=False)


def _images(n, seed):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIDE, SIDE, 3)).astype(np.float32)


def test_sample_grid_png_andread_events(tmp_path):
    model = StandInGAN()
    grid_cb = callbacks.SampleGrid(
        6,
        output_dir=str(tmp_path / "samples"),
        log_dir=str(tmp_path / "tb"),
        every_n_steps=2,
        columns=3,
    )
    _fit(model, 4, [grid_cb])
    assert sorted(os.listdir(tmp_path / "samples")) == [
        "samples_0000002.png", "samples_0000004.png",
    ]  # fmt: skip
    last = np.asarray(Image.open(tmp_path / "samples" / "samples_0000004.png"))
    assert last.shape == (2 * SIDE, 3 * SIDE, 3)
    # The grid shows the EMA generator on latents fixed by the seed.
    latents = np.random.default_rng(0).standard_normal((6, 4), np.float32)
    expected = images.image_grid(model.generate(latents), 3)
    np.testing.assert_array_equal(last, expected)
    first = np.asarray(Image.open(tmp_path / "samples" / "samples_0000002.png"))
    assert not np.array_equal(first, last)  # G moved between the two
    steps = [e.step for e in read_events(str(tmp_path / "tb")).Tensors("samples")]
    assert steps == [2, 4]


class ConditionalStandInGAN(StandInGAN):
    """A conditional stand-in whose images depend on the labels; records the labels."""

    def __init__(self):
        super().__init__(num_classes=3)
        self.generated_labels = []

    def generate(self, num_or_latents, labels=None, use_ema=True):
        self.generated_labels.append(None if labels is None else np.asarray(labels).tolist())
        images = super().generate(num_or_latents, use_ema=use_ema)
        shift = 0.0 if labels is None else tf.cast(labels, tf.float32)[:, None, None, None]
        return tf.clip_by_value(images + 0.5 * shift - 0.5, -1.0, 1.0)


@pytest.mark.parametrize(
    "labels, expected", [(None, [0, 1, 2, 0, 1, 2, 0]), ([2, 2, 1, 0, 0, 1, 2], None)]
)
def test_sample_grid_conditional_labels_cycle(tmp_path, labels, expected):
    # Without labels the grid cycles through the classes; given labels are used as given.
    expected = expected or labels
    model = ConditionalStandInGAN()
    grid_cb = callbacks.SampleGrid(
        7, output_dir=str(tmp_path), every_n_steps=2, labels=labels, columns=7
    )
    _fit(model, 2, [grid_cb])
    assert model.generated_labels and all(y == expected for y in model.generated_labels)
    latents = np.random.default_rng(0).standard_normal((7, 4), np.float32)
    grid = np.asarray(Image.open(tmp_path / "samples_0000002.png"))
    np.testing.assert_array_equal(grid, images.image_grid(model.generate(latents, expected), 7))


def test_metric_evaluator_logs_history_and_keeps_best(tmp_path):
    model = StandInGAN()
    reals = _images(8, 0)
    ckpt = str(tmp_path / "best.weights.h5")
    evaluator = callbacks.MetricEvaluator(
        reals, every_n_steps=2, log_dir=str(tmp_path / "tb"), split="train",
        history_path=str(tmp_path / "history.jsonl"), checkpoint_path=ckpt,
    )  # fmt: skip
    history = _fit(model, 6, [evaluator])
    lines = [json.loads(x) for x in open(tmp_path / "history.jsonl")]
    assert [r["step"] for r in lines] == [2, 4, 6] == [r["step"] for r in evaluator.history]
    protocol = lines[0]["protocols"]["swd"]
    assert protocol["num_real"] == 8 and protocol["split"] == "train"
    swd = [r["swd"] for r in lines]
    assert len(set(swd)) == 3  # G drifts, so each evaluation differs
    assert history.history["swd"] == [swd[-1]]  # the epoch logs carry the latest value
    best = json.load(open(ckpt + ".json"))
    assert best["step"] == lines[int(np.argmin(swd))]["step"]
    # The checkpoint holds the best weights: reloading reproduces the best value.
    model.load_weights(ckpt)
    assert evaluator.evaluate()["swd"].value == pytest.approx(min(swd), rel=1e-9)
    scalars = read_events(str(tmp_path / "tb")).Tensors("metrics/swd")
    assert [e.step for e in scalars] == [2, 4, 6]
    assert sorted(p.name for p in tmp_path.glob("best*")) == [
        "best.weights.h5",
        "best.weights.h5.json",
    ]
    # Resumed (a new evaluator on the same files) from the saved best value: worse weights
    # never replace the best (a saved SWD of 0 cannot be beaten).
    assert callbacks.MetricEvaluator(reals, checkpoint_path=ckpt).best == min(swd)
    json.dump({**best, "swd": 0.0}, open(ckpt + ".json", "w"))
    saved = open(ckpt, "rb").read()
    resumed = callbacks.MetricEvaluator(reals, every_n_steps=2, checkpoint_path=ckpt)
    _fit(StandInGAN(), 2, [resumed])
    assert resumed.history[0]["swd"] > 0 and open(ckpt, "rb").read() == saved


def test_fresh_fakes_are_new_at_every_step_and_the_same_at_the_same_step():
    reals = _images(8, 0)
    fresh = callbacks.MetricEvaluator(reals, every_n_steps=2, fresh_fakes=True)
    fixed = callbacks.MetricEvaluator(reals, every_n_steps=2)
    model = StandInGAN()
    _fit(model, 1, [fresh, fixed])  # sets their model
    swd = lambda evaluator, step: evaluator.evaluate(step)["swd"].value
    assert swd(fresh, 2) != swd(fresh, 4) and swd(fresh, 2) == swd(fresh, 2)
    assert swd(fixed, 2) == swd(fixed, 4)


def test_best_weights_are_not_begun_without_room_for_them(tmp_path, monkeypatch):
    # HDF5 crashes the process on a full disk: the space is checked before writing.
    space = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: space._replace(free=512 * 1024))
    ckpt = str(tmp_path / "best.weights.h5")
    evaluator = callbacks.MetricEvaluator(_images(8, 0), every_n_steps=2, checkpoint_path=ckpt)
    with pytest.raises(OSError, match=r"No space left to write .*best.tmp.weights.h5 \(about"):
        _fit(StandInGAN(), 2, [evaluator])
    assert list(tmp_path.iterdir()) == []


def test_metric_evaluator_with_inception_logs_fid_kid_is(tmp_path):
    path = str(tmp_path / "tiny.pb")
    build_tiny_inception(path, dims=8)
    inception = metrics.InceptionFeatures(path)
    reals = _images(12, 1)
    reference = metrics.ReferenceStatistics.compute(inception, reals, dataset="t", split="test")
    evaluator = callbacks.MetricEvaluator(
        reals, every_n_steps=2, inception=inception, reference=reference, split="test",
        monitor="fid", log_dir=str(tmp_path / "tb"),
    )  # fmt: skip
    _fit(StandInGAN(), 2, [evaluator])
    record = evaluator.history[0]
    assert {"swd", "fid", "kid", "is"} <= set(record)
    assert record["protocols"]["fid"]["extractor_sha256"] == inception.sha256
    assert evaluator.best == record["fid"]
    tags = read_events(str(tmp_path / "tb")).Tags()["tensors"]
    assert {"metrics/fid", "metrics/kid", "metrics/is", "metrics/swd"} <= set(tags)
    with pytest.raises(ValueError, match="monitor='swd'"):
        callbacks.MetricEvaluator(reals, monitor="fid")


def test_metric_evaluator_with_the_offline_extractor_logs_kid_and_precision_recall():
    extractor = metrics.EmojiFeatures()
    reals = _images(12, 1)
    reference = metrics.ReferenceStatistics.compute(extractor, reals, dataset="t", split="train")
    evaluator = callbacks.MetricEvaluator(
        reals, every_n_steps=2, inception=extractor, reference=reference,
        metrics=("kid", "pr"), monitor="recall",
    )  # fmt: skip
    _fit(StandInGAN(), 2, [evaluator])
    record = evaluator.history[0]
    assert {"swd", "kid", "precision", "recall"} == set(record) - {"step", "protocols"}
    assert "not Inception" in record["protocols"]["kid"]["feature_extractor"]
    assert 0.0 <= record["precision"] <= 1.0 and evaluator.best == record["recall"]
    with pytest.raises(ValueError, match="Inception Score"):
        metrics.evaluate_inception(extractor, reference, reals, metrics=("is",))


class MemorisingD(keras.Model):
    """Logit +3 for images of its training set, -1 otherwise; records labels it sees."""

    def __init__(self, train_images):
        super().__init__()
        self.train = tf.constant(train_images.reshape(len(train_images), -1))
        self.seen_labels = []

    def call(self, inputs, training=False):
        if isinstance(inputs, list):
            inputs, labels = inputs
            self.seen_labels.append(np.asarray(labels))
        x = tf.reshape(inputs, [tf.shape(inputs)[0], -1])
        distance = tf.reduce_min(tf.reduce_sum((x[:, None] - self.train[None]) ** 2, -1), 1)
        return tf.where(distance < 1e-6, 3.0, -1.0)[:, None]


def test_overfitting_monitor_flags_memorising_discriminator(tmp_path, caplog):
    train, heldout = _images(10, 2), _images(6, 3)
    model = StandInGAN(MemorisingD(train), num_classes=2)
    labels = (np.arange(10) % 2, np.arange(6) % 2)
    monitor = callbacks.OverfittingMonitor(
        (train, labels[0]), (heldout, labels[1]), every_n_steps=2, log_dir=str(tmp_path),
        threshold=0.5,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="overfitting") as warned:
        history = _fit(model, 2, [monitor])
    # Said once: one warning, not also a log line.
    assert len([w for w in warned if "overfitting" in str(w.message)]) == 1
    assert not [r for r in caplog.records if "overfitting" in r.getMessage()]
    assert history.history["accuracy_gap"] == [1.0]
    stats = monitor.history[0]
    assert stats["d_accuracy_train"] == 1.0 and stats["d_accuracy_heldout"] == 0.0
    assert stats["d_mean_train"] == 3.0 and stats["d_mean_heldout"] == -1.0
    assert stats["accuracy_gap"] == 1.0 and stats["mean_gap"] == 4.0
    np.testing.assert_array_equal(np.concatenate(model.discriminator.seen_labels[:1]), labels[0])
    steps = [e.step for e in read_events(str(tmp_path)).Tensors("overfitting/accuracy_gap")]
    assert steps == [2]


def test_overfitting_monitor_runs_d_only_through_the_gan_unaugmented():
    train, heldout = _images(4, 2), _images(3, 3)
    model = StandInGAN(MemorisingD(train))
    model.discriminator = None  # no direct path: D runs only inside discriminate()
    monitor = callbacks.OverfittingMonitor(train, heldout)
    monitor.set_model(model)
    assert monitor.measure()["accuracy_gap"] == 1.0
    assert model.roles == [("clean", False)] * 2


def test_overfitting_monitor_quiet_when_discriminator_generalises():
    train, heldout = _images(10, 2), _images(6, 3)
    # D memorises both sets: same accuracy on each, no gap.
    model = StandInGAN(MemorisingD(np.concatenate([train, heldout])))
    monitor = callbacks.OverfittingMonitor(train, heldout, every_n_steps=1, threshold=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(model, 2, [monitor])
    assert [h["accuracy_gap"] for h in monitor.history] == [0.0, 0.0]


def test_nearest_neighbour_report_finds_copies(tmp_path):
    model = StandInGAN(drift=0.0)
    samples = callbacks.generate(model, *callbacks.fixed_latents(model, 3, seed=1))
    # The training set hides exact copies of the samples among random images.
    train = np.concatenate([_images(5, 4), samples[::-1], _images(4, 5)])
    report = callbacks.NearestNeighbourReport(
        train, str(tmp_path / "nn_{step}.png"), num_samples=3, k=2,
        feature_fn=lambda x: np.asarray(x).mean(axis=(1, 2)),
    )  # fmt: skip
    _fit(model, 1, [report])
    grid = np.asarray(Image.open(tmp_path / "nn_1.png"))
    assert grid.shape == (3 * SIDE, (1 + 2 + 2) * SIDE, 3)
    record = json.load(open(tmp_path / "nn_1.png.json"))
    np.testing.assert_array_equal(np.array(record["pixel_l2"]["indices"])[:, 0], [7, 6, 5])
    np.testing.assert_allclose(np.array(record["pixel_l2"]["distances"])[:, 0], 0, atol=1e-3)
    assert np.all(np.array(record["pixel_l2"]["distances"])[:, 1] > 1)
    assert "feature_l2" in record
    # Column 1 (nearest by pixels) shows the copy itself.
    np.testing.assert_array_equal(grid[:SIDE, SIDE : 2 * SIDE], images.image_grid(samples[:1]))


def test_real_gan_trains_on_emoji_with_all_callbacks(tmp_path):
    """The issue's "done when": a tiny GAN on the shipped emoji set, logged to TensorBoard."""
    keras.utils.set_random_seed(0)
    latents = keras.Input((8,))
    x = keras.layers.Reshape((4, 4, 8))(keras.layers.Dense(4 * 4 * 8)(latents))
    x = keras.layers.UpSampling2D(4)(keras.layers.LeakyReLU(0.2)(x))
    images = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(x)
    inputs = keras.Input((SIDE, SIDE, 3))
    y = keras.layers.Conv2D(8, 3, strides=4, padding="same")(inputs)
    logits = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.LeakyReLU(0.2)(y)))
    gan = GAN(keras.Model(latents, images), keras.Model(inputs, logits), latent_dim=8)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.999),
        g_optimizer=keras.optimizers.Adam(2e-4, 0.0, 0.999),
    )
    faces, _, _ = data.read_images(data.FACES_DIR, SIDE)
    faces = faces.astype(np.float32) / 127.5 - 1.0
    log_dir = str(tmp_path / "tb")
    cbs = [
        callbacks.SampleGrid(16, str(tmp_path / "samples"), log_dir, every_n_steps=2),
        callbacks.MetricEvaluator(faces[:64], every_n_steps=2, log_dir=log_dir),
        callbacks.OverfittingMonitor(faces[:100], faces[100:], every_n_steps=2, log_dir=log_dir),
    ]
    dataset = data.emoji_faces(SIDE, batch_size=8)
    gan.fit(dataset, epochs=1, steps_per_epoch=4, callbacks=cbs, shuffle=False, verbose=0)
    tags = set(read_events(log_dir).Tags()["tensors"])
    assert {"samples", "metrics/swd", "overfitting/accuracy_gap"} <= tags
    assert len(os.listdir(tmp_path / "samples")) == 2
    assert np.isfinite(cbs[1].history[-1]["swd"])


@pytest.mark.parametrize("initial_epoch, steps, last_epoch", [(0, 7, 1), (1, 2, 1), (2, 1, 2)])
def test_stop_at_step_ends_fit_within_an_epoch(initial_epoch, steps, last_epoch):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    data = tf.data.Dataset.from_tensors((np.ones((1, 1)), np.ones((1, 1)))).repeat()
    ends = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(epoch))
    model.fit(
        data,
        epochs=3,
        initial_epoch=initial_epoch,
        steps_per_epoch=5,
        verbose=0,
        callbacks=[callbacks.StopAtStep(7, steps_per_epoch=5), record],
    )
    # Epoch e starts at step 5 e: the run stops after step 7, inside the second epoch
    # (resumed at epoch 1: after 2 steps), and that epoch still ends, for checkpoints.
    assert int(model.optimizer.iterations) == steps
    assert ends[-1] == last_epoch


def test_stop_at_step_counts_from_a_resumed_step_between_epochs():
    # Resumed at step 6 of 5-step epochs (e.g. from the last good checkpoint of a diverged
    # run): the epochs end at steps 11, 16, ... and the run still stops after step 7.
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.0), "mse")
    data = tf.data.Dataset.from_tensors((np.ones((1, 1)), np.ones((1, 1)))).repeat()
    stop = callbacks.StopAtStep(7, steps_per_epoch=5, initial_step=6)
    model.fit(data, epochs=3, initial_epoch=1, steps_per_epoch=5, verbose=0, callbacks=[stop])
    assert int(model.optimizer.iterations) == 1


class CountingGAN(StandInGAN):
    """A stand-in with the step and non-finite counters of `GAN`."""

    def __init__(self, drift):
        super().__init__(drift=drift)
        self.train_steps = keras.Variable(0, dtype="int64", trainable=False)
        self.nonfinite_streak = keras.Variable(0, dtype="int64", trainable=False)

    def train_step(self, data):
        self.train_steps.assign_add(1)
        return super().train_step(data)


def _guarded_fit(model, tmp_path, epochs, extra=()):
    """3-step epochs with a guard (max |weight| 10) and a checkpoint after each epoch."""
    checkpoint = tf.train.Checkpoint(weights=list(model.weights))
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), max_to_keep=5)
    guard = callbacks.NonFiniteGuard(checkpoint_dir=str(tmp_path), max_abs_weight=10)
    save = callbacks.CheckpointEveryEpoch(manager, model.train_steps, guard)
    model.compile()
    ds = tf.data.Dataset.from_tensors(tf.zeros((2, SIDE, SIDE, 3))).repeat()
    cbs = [*extra, guard, save]
    model.fit(ds, epochs=epochs, steps_per_epoch=3, callbacks=cbs, verbose=0, shuffle=False)
    return guard, manager


def test_guard_stops_exploding_weights_before_they_are_checkpointed(tmp_path):
    # G's weights grow by 2 a step: |w| <= 6.2 after epoch 1, >= 11.8 after epoch 2.
    model = CountingGAN(drift=2.0)
    with pytest.warns(RuntimeWarning, match=r"weight reached 1\d.* Last good checkpoint: .*ckpt-3"):
        guard, manager = _guarded_fit(model, tmp_path, epochs=4)
    assert "max_abs_weight=10" in guard.reason and int(model.train_steps) == 6
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-3"]
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-3")


def test_guard_stops_on_a_nonfinite_metric_before_the_checkpoint(tmp_path):
    def metric(epoch, logs):  # as MetricEvaluator puts its latest values in the logs
        logs["swd"] = float("nan") if epoch == 1 else 1.0

    model = CountingGAN(drift=0.0)
    with pytest.warns(RuntimeWarning, match="swd is not finite.*ckpt-3"):
        guard, manager = _guarded_fit(
            model, tmp_path, epochs=4, extra=[keras.callbacks.LambdaCallback(on_epoch_end=metric)]
        )
    assert guard.reason == "swd is not finite" and int(model.train_steps) == 6
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-3"]


class _RecordingReport(callbacks.PeriodicCallback):
    """A report written only at the end of training, as NearestNeighbourReport's."""

    def __init__(self, guard=None):
        super().__init__(every_n_steps=None, guard=guard)
        self.runs = []

    def run(self, step):
        self.runs.append(step)


def test_no_final_report_of_a_diverged_state_and_the_guard_can_stay_silent(tmp_path):
    model = CountingGAN(drift=2.0)
    guard = callbacks.NonFiniteGuard(max_abs_weight=10, warn=False)
    report, unguarded = _RecordingReport(guard), _RecordingReport()
    model.compile()
    ds = tf.data.Dataset.from_tensors(tf.zeros((2, SIDE, SIDE, 3))).repeat()
    cbs = [report, unguarded, guard]
    fit = dict(steps_per_epoch=3, callbacks=cbs, verbose=0, shuffle=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(ds, epochs=4, **fit)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]  # warn=False
    assert "max_abs_weight=10" in guard.reason
    assert report.runs == [] and unguarded.runs == [6]  # silenced only where given the guard
    assert not hasattr(model, "diverged")  # no side channel through the model
    # A sound run afterwards (e.g. resumed with lower rates) writes its final report again.
    model.generator.set_weights([np.zeros_like(w) for w in model.generator.get_weights()])
    model.fit(ds, epochs=1, **fit)
    assert guard.reason is None and report.runs == [9]


@pytest.mark.parametrize(
    "make",
    [
        lambda guard: callbacks.SampleGrid(4, every_n_steps=None, guard=guard),
        lambda guard: callbacks.MetricEvaluator(_images(4, 0), every_n_steps=None, guard=guard),
        lambda guard: callbacks.OverfittingMonitor(
            _images(2, 0), _images(2, 1), every_n_steps=None, guard=guard
        ),
        lambda guard: callbacks.NearestNeighbourReport(_images(4, 0), "unused.png", guard=guard),
    ],
)
def test_every_periodic_callback_takes_the_guard(make):
    guard = callbacks.NonFiniteGuard()
    callback = make(guard)
    assert isinstance(callback, callbacks.PeriodicCallback) and callback.guard is guard
    with pytest.raises((AttributeError, TypeError)):  # a sound run's final output: no model
        callback.on_train_end()
    guard.reason = "a trainable weight reached 1e+07 in magnitude"
    callback.on_train_end()  # a diverged run's: nothing runs
    assert callback.history == []


def test_image_helpers_moved_to_images_and_stay_importable_from_callbacks():
    assert callbacks.image_grid is images.image_grid
    assert callbacks.save_png is images.save_png
    assert callbacks.nearest_neighbours is images.nearest_neighbours


def test_checkpoint_write_failure_names_the_directory(tmp_path):
    model = CountingGAN(drift=0.0)
    folder = tmp_path / "checkpoints"
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(weights=list(model.weights)), str(folder), max_to_keep=1
    )
    folder.write_text("a file where the checkpoint folder was (or no permission)")
    save = callbacks.CheckpointEveryEpoch(manager, model.train_steps)
    with pytest.raises(OSError, match=f"Could not write a checkpoint to '{folder}': "):
        _fit(model, 1, [save])


def test_metric_evaluator_never_keeps_nonfinite_weights_as_best(tmp_path):
    ckpt = str(tmp_path / "best.weights.h5")
    evaluator = callbacks.MetricEvaluator(_images(8, 0), every_n_steps=1, checkpoint_path=ckpt)
    _fit(StandInGAN(drift=np.nan), 1, [evaluator])  # G's images are NaN: so is SWD
    assert np.isnan(evaluator.history[0]["swd"])
    assert evaluator.best is None and not os.path.exists(ckpt)
