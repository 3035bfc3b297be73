"""train.py's generate, nearest and evaluate on a tiny export, in this process: what they
write and print, and bad input, bad outputs and damaged exports refused with exit status
2 and a message, no traceback."""

import json
import os
import re
import shutil

import pytest
from PIL import Image

from keras_models import recipes
from keras_models.run_dir import RunDirectory
from tests.helpers.runs import run_in_process


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    """The export of a tiny unconditional GAN (8x8 images)."""
    from tests.helpers.toy_gan import compile_gan, make_gan

    path = str(tmp_path_factory.mktemp("gan") / "export")
    compile_gan(make_gan()).export_generator(path)
    return path


def assert_refused(result, message):
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(message, result.stderr), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_generate_writes_a_file_per_image_without_a_grid(export_dir, tmp_path):
    folder = tmp_path / "images"
    result = run_in_process(
        "generate",
        f"--export_dir={export_dir}",
        "--num_samples=5",
        "--output=",
        f"--output_dir={folder}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Wrote 5 images to {folder} (one file each)" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images"]
    assert [Image.open(p).size for p in sorted(folder.iterdir())] == [(8, 8)] * 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--output=TMP/grid"], r"Expected --output to end in one of \.png, \.jpg, \.jpeg, "),
        (["--output=/proc/forbidden/grid.png"], r"'/proc' is not writable"),
        (["--output_dir=TMP/file"], r"--output_dir=.*file' is not writable \(Not a direc"),
        (["--output="], r"Expected --output \(a grid\) or --output_dir"),
        # 3,000,000 images of 8x8 make a 13,856x13,856 grid: refused before any latent is
        # drawn (100,000 images of 256x256 would be an 81,920 x 81,920 one).
        (["--num_samples=3000000"], "at most 178,956,970 pixels.*with --output_dir"),
    ],
)
def test_generate_refuses_outputs_it_cannot_write(export_dir, tmp_path, args, message):
    (tmp_path / "file").write_text("not a folder")
    args = [a.replace("TMP", str(tmp_path)) for a in args]
    if not any(a.startswith("--output=") for a in args):
        args.append(f"--output={tmp_path / 'grid.png'}")
    assert_refused(run_in_process("generate", f"--export_dir={export_dir}", *args), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory of the demo recipe, nothing trained (for nearest's data)."""
    run = RunDirectory(str(tmp_path_factory.mktemp("run")))
    run.prepare(recipes.resolve("demo", {}), resume=False, overwrite=False)
    run.unlock()
    return run.path


def test_nearest_refuses_an_output_without_an_image_extension(export_dir, run_dir):
    result = run_in_process(
        "nearest", f"--run_dir={run_dir}", f"--export_dir={export_dir}", "--output=nearest"
    )
    assert_refused(result, r"--output to end in one of .*Received: --output='nearest'")


def truncate(path):
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)


@pytest.mark.parametrize(
    "damage, part",
    [
        (lambda d: truncate(d / "saved_model.pb"), r"saved_model\.pb \(the graph\) cannot be read"),
        (
            lambda d: truncate(d / "variables" / "variables.data-00000-of-00001"),
            r"variables/variables\.data-\* \(the weights\) is truncated or corrupt",
        ),
        (
            lambda d: os.remove(d / "variables" / "variables.index"),
            r"variables/variables\.index \(the weights' index\) is missing",
        ),
    ],
    ids=["truncated-graph", "truncated-weights", "missing-index"],
)
def test_a_damaged_export_is_named_with_how_to_export_it_again(
    export_dir, run_dir, tmp_path, damage, part
):
    damaged = tmp_path / "export"
    shutil.copytree(export_dir, damaged)
    damage(damaged)
    output = tmp_path / "out.png"
    for command in ("generate", f"nearest --run_dir={run_dir}"):
        result = run_in_process(*command.split(), f"--export_dir={damaged}", f"--output={output}")
        assert_refused(result, f"The export at '{re.escape(str(damaged))}' is damaged: {part}")
        assert "run the training command of its run again with the same flags" in result.stderr
        assert not output.exists()


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
    """A run of the demo recipe (tiny BigGAN, emoji faces at 32 px) with its untrained
    generator exported, as `evaluate` reads it."""
    from keras_models import build

    config = recipes.resolve("demo", {"width": 2, "jit_compile": False})
    run = RunDirectory(str(tmp_path_factory.mktemp("scored")))
    run.prepare(config, resume=False, overwrite=False)
    run.unlock()
    build.build_gan(config).export_generator(run.export)
    return run.path


def evaluation(result):
    """The printed metrics of an `evaluate` run: `{name: value}`."""
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line.split() for line in result.stdout.splitlines()]
    return {words[0]: float(words[1]) for words in lines if words[0] in METRIC_NAMES}


METRIC_NAMES = ("fid", "kid", "is", "precision", "recall")


def test_evaluate_prints_the_metrics_with_their_protocol_and_caches_the_reference(scored_run):
    args = ("evaluate", f"--run_dir={scored_run}", "--num_fid_images=64", "--seed=3")
    first = run_in_process(*args)
    values = evaluation(first)
    assert sorted(values) == ["fid", "kid", "precision", "recall"]  # no IS without Inception
    assert "Protocol: emoji-features" in first.stdout
    assert "of emoji_faces split train; fakes: 64 (seed 3), quantised uint8" in first.stdout
    cache = os.path.join(scored_run, "reference_statistics_train.npz")
    written = os.stat(cache).st_mtime_ns
    with open(os.path.join(scored_run, "evaluation.json")) as f:
        record = json.load(f)
    assert {k: v["value"] for k, v in record["metrics"].items()} == pytest.approx(values, 1e-5)
    assert record["metrics"]["fid"]["protocol"]["num_fake"] == 64
    assert record["fakes"] == "seed 3"

    again = run_in_process(*args)
    assert evaluation(again) == values  # the same fakes from the same seed
    assert os.stat(cache).st_mtime_ns == written  # the cached reference, not recomputed
    other = evaluation(run_in_process(*args[:-1], "--seed=4", "--metrics=fid"))
    assert list(other) == ["fid"] and other["fid"] != values["fid"]


def test_evaluate_with_inception_weights_adds_is(scored_run, tmp_path):
    from tests.helpers.tiny_inception import build_tiny_inception

    run = tmp_path / "run"  # a reference cached with another extractor would be refused
    shutil.copytree(scored_run, run, ignore=shutil.ignore_patterns("reference_*", "*.json"))
    shutil.copy(os.path.join(scored_run, "config.json"), run)
    weights = tmp_path / "graph.pb"
    build_tiny_inception(str(weights))
    output = tmp_path / "scores" / "eval.json"
    result = run_in_process(
        "evaluate",
        f"--run_dir={run}",
        f"--inception_weights={weights}",
        "--num_fid_images=16",
        f"--output={output}",
    )
    assert sorted(evaluation(result)) == ["fid", "is", "kid", "precision", "recall"]
    assert "Protocol: inception-2015-12-05 pool_3" in result.stdout
    assert json.loads(output.read_text())["metrics"]["is"]["protocol"]["is_splits"] == 10
    assert (run / "reference_statistics_train.npz").exists()
    assert not (run / "evaluation.json").exists()

    emoji = run_in_process("evaluate", f"--run_dir={run}", "--num_fid_images=16")
    assert_refused(emoji, r"Expected the cached reference .*reference_statistics_train\.npz")


@pytest.mark.parametrize(
    "args, message",
    [
        ([], r"evaluate needs --run_dir"),
        (["--run_dir=TMP"], r"Expected --run_dir to be a training run's directory"),
        (["--feature_extractor=inception"], r"Give --inception_weights=PATH to it, or "),
        (["--metrics=fid,is"], r"Inception features and IS need classify_image_graph_def\.pb"),
        (["--resolution=64"], r"its config.json fixes --resolution\. Flags it takes: "),
        (["--export_dir=EXPORT"], r"Expected an export of the run's 32px images"),
        (["--output=TMP"], r"Expected --output to be a JSON file"),
    ],
    ids=["no-run-dir", "no-run", "no-weights", "is-no-weights", "run-flag", "export", "output"],
)
def test_evaluate_refuses_bad_input(scored_run, export_dir, tmp_path, args, message):
    args = [a.replace("TMP", str(tmp_path)).replace("EXPORT", export_dir) for a in args]
    if not any(a.startswith("--run_dir") for a in args) and args:
        args.append(f"--run_dir={scored_run}")
    assert_refused(run_in_process("evaluate", "--num_fid_images=8", *args), message)
    assert list(tmp_path.iterdir()) == []
