"""Each paper preset evaluates as its authors' script does when Inception weights are
given (metrics, interval, split, count, the metric that keeps the best weights), and
says clearly, without them, that it reports no FID."""

import json
import types

import numpy as np
import pytest
import tensorflow as tf

from keras_models import build, data, metrics, recipes
from keras_models.cli import assembly
from keras_models.config import ConfigError
from keras_models.run_dir import RunDirectory
from tests.helpers.tiny_inception import build_tiny_inception

WEIGHTS = {"inception_weights": "/weights/classify_image_graph_def.pb"}

# preset -> (metrics, eval_every, fid_split, num_fid_images, best_metric)
AUTHORS = {
    "biggan_cifar10": ("fid", 4000, "test", 10000, "fid"),
    "biggan_cifar100": ("fid", 4000, "test", 10000, "fid"),
    "cr_biggan_cifar10": ("fid", 4000, "test", 10000, "fid"),
    "stylegan2_cifar10": ("fid,is", 6250, "test", 10000, "none"),
    "stylegan2_fewshot": ("fid", 6250, "train", 5000, "none"),
}


@pytest.mark.parametrize("preset", AUTHORS)
def test_with_inception_weights_a_paper_preset_evaluates_as_its_script(preset):
    config = recipes.resolve(preset, {**WEIGHTS, "dataset": "folder"})
    fields = ("metrics", "eval_every", "fid_split", "num_fid_images", "best_metric")
    assert tuple(getattr(config, name) for name in fields) == AUTHORS[preset]
    [line] = recipes.evaluation(config)
    assert line.startswith(f"Evaluation: swd, {config.metrics.replace(',', ', ')} every ")


@pytest.mark.parametrize("preset", AUTHORS)
def test_without_weights_a_paper_preset_says_once_that_it_reports_no_fid(preset):
    config = recipes.resolve(preset, {"dataset": "folder"})
    assert config.metrics == "" and config.best_metric in ("swd", "none")
    evaluation, no_fid = recipes.evaluation(config)
    assert evaluation.startswith("Evaluation: swd every ")
    assert no_fid.startswith(f"No FID: preset {preset} reports FID")
    assert "--inception_weights=PATH" in no_fid


def test_a_users_own_metrics_are_kept_and_best_must_be_measured():
    config = recipes.resolve("biggan_cifar10", {"metrics": "kid", "feature_extractor": "emoji"})
    assert config.metrics == "kid" and config.best_metric == "swd"  # fid is not measured
    with pytest.raises(ConfigError, match="Expected best_metric to be one of the measured"):
        recipes.resolve("demo", {"best_metric": "fid"})


def test_a_biggan_cifar_run_with_inception_keeps_the_weights_of_its_best_fid(tmp_path):
    # The paper's protocol end to end with a stand-in graph of Inception's interface:
    # the preset's evaluator measures FID against the reference split's statistics and
    # keeps the weights of the best FID seen.
    weights = tmp_path / "inception.pb"
    build_tiny_inception(weights)
    config = recipes.resolve(
        "biggan_cifar10",
        {"inception_weights": str(weights), "dataset": "emoji_faces", "resolution": 32,
         "conditional": False, "fid_split": "train", "width": 2, "num_fid_images": 16,
         "batch_size": 4, "d_steps_per_g_step": 1, "jit_compile": False},
    )  # fmt: skip
    reals = data.load_training_data("emoji_faces", 32, batch_size=4)
    gan = build.build_gan(config, None)
    run_dir = RunDirectory(str(tmp_path / "run"))
    run_dir.prepare(config, resume=False, overwrite=False)
    run_dir.unlock()
    step = gan.train_steps
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), run_dir.checkpoints, 1)
    extractor = metrics.feature_extractor(config.feature_extractor, config.inception_weights)
    run = assembly.run_callbacks(
        config, reals, run_dir, manager, step, start=0, inception=extractor
    )
    evaluator = run.evaluator
    assert (evaluator.every_n_steps, evaluator.monitor) == (4000, "fid")
    evaluator.set_model(gan)
    evaluator.run(4000)
    first = evaluator.history[-1]["fid"]
    assert evaluator.history[-1]["protocols"]["fid"]["split"] == "train"
    best = json.loads((tmp_path / "run" / "checkpoints" / "best.weights.h5.json").read_text())
    assert (best["step"], best["fid"]) == (4000, first)


@pytest.mark.parametrize("preset", ["biggan_cifar10", "stylegan2_fewshot"])
def test_the_run_keeps_best_weights_by_the_presets_metric(preset, tmp_path, monkeypatch):
    config = recipes.resolve(preset, {**WEIGHTS, "dataset": "folder", "resolution": 32})
    monkeypatch.setattr(assembly, "reference_statistics", lambda *args: object())
    images = np.zeros((8, 32, 32, 3), np.float32)
    reals = types.SimpleNamespace(images=images, labels=None, heldout=None)
    step = tf.Variable(0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path), 1)
    run = assembly.run_callbacks(
        config, reals, RunDirectory(str(tmp_path)), manager, step, start=0, inception=object()
    )
    evaluator = run.evaluator
    assert evaluator.every_n_steps == AUTHORS[preset][1] and evaluator.fresh_fakes
    assert evaluator.num_fake == AUTHORS[preset][3]
    if AUTHORS[preset][4] == "none":
        assert evaluator.checkpoint_path is None
    else:
        assert evaluator.monitor == "fid"
        assert evaluator.checkpoint_path.endswith("checkpoints/best.weights.h5")
