"""keras_models.cli from Python: a whole run is one call, with no absl flags and no exits;
and the command line's entry points (console script, --help)."""

import configparser
import importlib
import json
import subprocess
import sys

import pytest
import tensorflow as tf
from absl import flags

from keras_models import recipes
from keras_models.cli import RunOptions, Training, TrainingError, UsageError, train
from tests.helpers.readme import docs_blocks
from tests.helpers.runs import ROOT, run_in_process

# tests.helpers.runs.TINY as config fields.
TINY_CONFIG = {
    "width": 2,
    "resolution": 32,
    "batch_size": 4,
    "holdout": 8,
    "num_eval_images": 16,
    "jit_compile": False,
}


def test_a_run_is_one_call_from_python_and_reads_no_flags(tmp_path):
    flags.FLAGS.unparse_flags()  # reading any flag now raises UnparsedFlagAccessError
    # The docs' example, as written.
    (example,) = docs_blocks("command-line.md", "tests/keras_models/cli/test_training.py")
    run_dir = tmp_path / "run"
    namespace = {"run_dir": str(run_dir)}
    exec(example, namespace)
    config, training = namespace["config"], namespace["training"]
    assert config == recipes.resolve(
        "demo",
        {**TINY_CONFIG, "steps": 4, "ckpt_every": 2, "sample_every": 2, "eval_every": 2},
    )
    assert not flags.FLAGS.is_parsed()
    assert tf.train.latest_checkpoint(run_dir / "checkpoints").endswith("ckpt-4")
    assert int(training.gan.train_steps.numpy()) == 4
    assert sorted(p.name for p in (run_dir / "samples").glob("*.png")) == [
        "samples_0000002.png",
        "samples_0000004.png",
    ]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [2, 4] and all("swd" in row for row in rows)
    assert set(training.history) >= {"d_loss", "g_loss"}
    assert json.loads((run_dir / "config.json").read_text()) == config.to_dict()
    assert not (run_dir / "export").exists()  # export=False
    assert not (run_dir / "train.lock").exists()


def test_bad_input_raises_a_usage_error_before_anything_is_written(tmp_path):
    missing = recipes.resolve("demo", {**TINY_CONFIG, "dataset": str(tmp_path / "no" / "such")})
    with pytest.raises(UsageError, match="is not a folder"):
        Training(missing, RunOptions(run_dir=str(tmp_path / "run"))).run()
    assert not (tmp_path / "run").exists()
    # The library's own input errors reach Python callers as a UsageError too.
    weights = {"metrics": "fid", "inception_weights": str(tmp_path / "no.pb")}
    with pytest.raises(UsageError, match="no.pb") as error:
        train(recipes.resolve("demo", {**TINY_CONFIG, **weights}), run_dir=str(tmp_path / "run"))
    assert not isinstance(error.value.__cause__, UsageError)
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="Expected strategy in"):
        RunOptions(strategy="gossip")
    assert RunOptions().run_dir_of("demo").endswith("runs/demo")


def test_the_console_script_is_a_callable_of_the_package_and_no_module_is_top_level():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert "py_modules" not in setup["options"]  # no top-level `train` to shadow a user's
    scripts = dict(
        line.split(" = ")
        for line in setup["options.entry_points"]["console_scripts"].strip().splitlines()
    )
    module, _, name = scripts["tf-diffaug-train"].partition(":")
    assert module.startswith("keras_models.cli.")
    assert callable(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize("program", ["/venv/bin/tf-diffaug-train", "train.py"])
def test_help_lists_the_runs_own_flags(program, monkeypatch, capsys):
    from keras_models.cli import main

    monkeypatch.setattr(sys, "argv", [program, "--help"])
    monkeypatch.setattr(sys.modules["__main__"], "__doc__", None)
    with pytest.raises(SystemExit):
        main.run()
    out = capsys.readouterr().out
    for flag in ("--preset", "--run_dir", "--[no]resume", "--export_dir", "--steps"):
        assert f"  {flag}:" in out, out[-3000:]
    assert "tf-diffaug-train --preset=demo --run_dir=runs/demo" in out


def test_importing_the_package_loads_no_tensorflow_before_the_cli_sets_up_its_logging():
    # So that `keras_models.cli.main` filters TensorFlow's C++ start-up lines, whichever
    # entry point (console script or train.py) imports it.
    script = (
        "import sys, keras_models, keras_models.cli;"
        "assert 'tensorflow' not in sys.modules, sorted(sys.modules);"
        "from keras_models import GAN, NonFiniteGuard, AdaptiveStrength, biggan;"
        "assert keras_models.GAN is GAN and 'GAN' in dir(keras_models)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_command_line_exits_1_when_a_started_run_cannot_go_on(monkeypatch, tmp_path):
    # What Training raises for a diverged run or unwritable outputs (the slow end-to-end
    # test of test_train.py diverges for real).
    def cannot_go_on(self):
        raise TrainingError("training diverged at step 4: d_loss is not finite.")

    monkeypatch.setattr(Training, "run", cannot_go_on)
    result = run_in_process("--preset=demo", f"--run_dir={tmp_path / 'run'}", "--steps=2")
    assert result.returncode == 1
    assert "error: training diverged at step 4: d_loss is not finite." in result.stderr
    assert "Traceback" not in result.stderr


def test_an_adaptive_run_records_p_and_r_t_and_its_report_plots_them(tmp_path):
    config = recipes.resolve(
        "demo_adaptive",
        {**TINY_CONFIG, "steps": 8, "ckpt_every": 4, "sample_every": 8, "eval_every": 8},
    )
    run_dir = tmp_path / "run"
    Training(config, RunOptions(run_dir=str(run_dir), export=False)).run()
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    strength = [row for row in rows if "augment_p" in row]
    # Every ckpt_every // 10 = 1 step (not only at evaluations), and none among the metrics.
    assert [row["step"] for row in strength] == list(range(1, 9))
    assert all(set(row) == {"step", "augment_p", "r_t"} for row in strength)
    assert all(0.0 <= row["augment_p"] <= 1.0 for row in strength)
    report = (run_dir / "report.md").read_text()
    assert "![adaptive p and r_t over training](strength.png)" in report
    assert f"target ({config.ada_target:g})" in report
    assert (run_dir / "strength.png").read_bytes()[:4] == b"\x89PNG"
