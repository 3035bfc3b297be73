"""The command line (train.py) end to end: presets, run directory, exact resume,
export/generate, bad input."""

import fnmatch
import json
import os
import re
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models import build, devices, recipes
from keras_models.run_dir import MARKER, RUN_OUTPUTS, RunDirectory, RunDirError
from tests.helpers import tfds_local
from tests.helpers.runs import ROOT, TINY, checkpoint_values, run_in_process, run_train

# --- presets ---------------------------------------------------------------------------


def documented_preset_table():
    text = (ROOT / "docs" / "command-line.md").read_text()
    block = text.split("<!-- presets-table -->")[1].split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in block.strip().splitlines()[2:]]
    header = [h.strip() for h in block.strip().splitlines()[0].strip("|").split("|")]
    return {
        r[0].strip().strip("`"): dict(zip(header[1:], [c.strip() for c in r[1:]], strict=True))
        for r in rows
    }


def test_every_preset_resolves_to_the_values_the_docs_document():
    table = documented_preset_table()
    assert set(table) == set(recipes.RECIPES)
    for name, documented in table.items():
        config = recipes.resolve(name)
        for key, value in documented.items():
            assert str(getattr(config, key)) == value.strip("`"), (name, key)


def test_flags_override_the_preset():
    config = recipes.resolve("biggan_cifar10", {"batch_size": 8, "policy": "", "width": None})
    assert config.batch_size == 8 and config.policy == "" and config.width is None
    assert config.d_steps_per_g_step == 4 and config.loss == "hinge"


def test_lazy_regularization_leaves_adam_as_configured():
    # The penalty is added inside the step it is due in (DiffAugment-stylegan2's training
    # loop), not run as NVlabs' separate step, so Adam keeps its configured values.
    config = recipes.resolve("stylegan2_cifar10", {"model_preset": "ffhq1024"})
    assert (config.r1_interval, config.pl_interval) == (16, 4)
    for network, lr in (
        ("discriminator", config.d_learning_rate),
        ("generator", config.g_learning_rate),
    ):
        optimizer = build.adam(config, network)
        assert float(optimizer.learning_rate) == pytest.approx(lr)
        assert (optimizer.beta_1, optimizer.beta_2) == (config.adam_beta_1, config.adam_beta_2)


# --- dry runs (in process: one TensorFlow start-up for all) ---------------------------


def dry_run(*args):
    """The CLI's `main` on `args`, in this process; a usage error raises SystemExit(2)."""
    from keras_models.cli import main

    main.FLAGS.unparse_flags()
    return main.main(main.FLAGS(["train.py", "--dry_run", *args]))


# Every preset at its own size; ImageNet's full-size BigGAN takes 45-100 s to build on
# 2 cores, so the default run builds it at width 16 (its data and blocks all the same).
DRY_RUNS = [
    pytest.param(p, (), marks=[pytest.mark.slow] if p == "biggan_imagenet128" else [])
    for p in sorted(recipes.RECIPES)
] + [("biggan_imagenet128", ("--width=16",))]


@pytest.mark.parametrize(("preset", "extra"), DRY_RUNS)
def test_every_preset_dry_runs_without_downloading_or_writing(preset, extra, tmp_path):
    # A prepared (mocked) copy of each tfds dataset; a download attempt fails the test.
    args = [f"--preset={preset}", f"--run_dir={tmp_path / 'run'}", *extra]
    if recipes.resolve(preset).dataset is None:  # the few-shot recipe takes a folder
        args.append("--dataset=emoji_faces")
    with tfds_local.mock_prepared(num_examples=4):
        assert dry_run(*args) is None
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("bfloat16_flags", "args", "policy", "reason"),
    [
        (["avx512_bf16"], (), "mixed_bfloat16", "auto: CPU with native bfloat16 (avx512_bf16)"),
        ([], (), "float32", "auto: CPU without native bfloat16"),
        (["avx512_bf16"], ("--mixed_precision=float32",), "float32", "--mixed_precision=float32"),
    ],
)
def test_the_precision_follows_the_cpu_unless_given(
    bfloat16_flags, args, policy, reason, monkeypatch, capsys
):
    monkeypatch.setattr(devices, "native_bfloat16_flags", lambda cpuinfo: bfloat16_flags)
    dry_run(*TINY, *args)
    assert keras.config.dtype_policy().name == policy  # the networks were built under it
    assert f"; precision {policy} ({reason})." in capsys.readouterr().out


def test_dry_run_reads_a_locally_prepared_tfds_dataset(tfds_data_dir, tmp_path, capsys):
    # The real tfds code path (no mock), with --data_dir.
    dry_run(
        "--preset=biggan_cifar10", f"--dataset={tfds_local.NAME}", f"--data_dir={tfds_data_dir}"
    )
    assert f"Data: {tfds_local.NAME} at 32x32: tfds, 100% of the train split" in (
        capsys.readouterr().out
    )


def test_a_tfds_dataset_not_prepared_locally_exits_2_at_once(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        dry_run("--preset=biggan_cifar10", f"--data_dir={tmp_path}")
    assert exit_info.value.code == 2
    assert "tfds build cifar10" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


# --- end to end ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """`(run_dir, result)` of one tiny run with every output, in a run directory whose
    lock a killed process left (shared: a run is the slow part of these tests)."""
    run_dir = tmp_path_factory.mktemp("tiny") / "run"
    run_dir.mkdir()
    (run_dir / "train.lock").write_text(f"999999 {socket.gethostname()}")  # a dead process
    result = run_train(
        *TINY,
        f"--run_dir={run_dir}",
        "--steps=4",
        "--ckpt_every=2",
        "--sample_every=2",
        "--eval_every=2",
        "--metrics=fid,kid,pr",  # no Inception weights: the offline emoji extractor
        "--num_fid_images=32",
    )
    return run_dir, result


def test_tiny_run_writes_its_outputs_and_the_export_generates_in_a_fresh_process(
    tiny_run, tmp_path
):
    # One short end-to-end run of each command: train, then generate and nearest.
    run_dir, result = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["steps"] == 4 and config["width"] == 2
    assert sorted(p.name for p in (run_dir / "samples").glob("*.png")) == [
        "samples_0000002.png",
        "samples_0000004.png",
    ]
    assert list((run_dir / "logs").rglob("events.out.tfevents*"))
    assert tf.train.latest_checkpoint(run_dir / "checkpoints").endswith("ckpt-4")
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [2, 4]
    record = json.loads(lines[-1])
    assert {"swd", "fid", "kid", "precision", "recall"} <= set(record)
    assert "not Inception" in record["protocols"]["fid"]["feature_extractor"]
    assert "overfitting signal" in (run_dir / "report.md").read_text()
    assert (
        "every 2 steps (32 EMA samples vs the default split); best weights by swd."
        in (run_dir / "report.md").read_text()
    )
    assert (run_dir / "nearest.png").exists()

    grid = tmp_path / "grid.png"
    result = run_train(
        "generate",
        f"--export_dir={run_dir / 'export'}",
        "--num_samples=9",
        f"--output={grid}",
        "--truncation=1.0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from PIL import Image

    assert Image.open(grid).size == (3 * 32, 3 * 32)
    # The docs' interpolation command (slerp gives float64 latents), and bad input.
    strip = tmp_path / "strip.png"
    export = f"--export_dir={run_dir / 'export'}"
    result = run_train(
        "generate", export, "--interpolate=8", "--truncation=1.5", f"--output={strip}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert Image.open(strip).size == (8 * 32, 32)
    for bad, message in (("--truncation=0", "truncation > 0"), ("--label=3", "no label")):
        result = run_train("generate", export, bad, f"--output={tmp_path / 'bad.png'}")
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    # nearest: 8 samples, each beside its 4 nearest training images.
    nearest = tmp_path / "nearest.png"
    result = run_train("nearest", f"--run_dir={run_dir}", f"--output={nearest}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert Image.open(nearest).size == (5 * 32, 8 * 32)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--preset=biggan_cifar1000"], "Unknown preset 'biggan_cifar1000'. Valid presets are"),
        (["--preset=demo", "--dataset=./no/such/folder"], "is not a folder"),
        (["--preset=demo", "--dataset=EMPTY"], "Received: a folder with none"),
        (["--preset=demo", "--metrics=is"], "need --inception_weights"),
        (["--preset=demo", "--metrics=fid", "--inception_weights=/no/such.pb"], "/no/such.pb"),
        (["--preset=demo", "--policy=color,blur"], "Unknown DiffAugment op 'blur'"),
        (["--preset=demo", "--run_dir=/proc/forbidden"], "not writable"),
        (["--preset=demo", "bogus"], "Unknown command"),
        (["--dataset=BROKEN"], r"broken.png': cannot identify .* remove it from the dataset"),
        (["--dataset=BROKEN", "--run_dir=BROKEN/run"], "is inside the dataset folder"),
        (["generate", "--export_dir=EMPTY"], "a folder without saved_model.pb"),
        (["--preset=demo", "--run_dir=FILE"], "Expected --run_dir to be a folder .* a file"),
        (["--preset=demo", "--init_from=FILE"], "file.txt', a file that is neither"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_before_training(tmp_path, args, message):
    empty, broken, file = tmp_path / "empty", tmp_path / "broken", tmp_path / "file.txt"
    empty.mkdir()
    broken.mkdir()
    (broken / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    file.write_text("not a folder, not a checkpoint")
    args = [
        a.replace("EMPTY", str(empty)).replace("BROKEN", str(broken)).replace("FILE", str(file))
        for a in args
    ]
    if not any(a.startswith("--run_dir") for a in args):
        args.append(f"--run_dir={tmp_path / 'run'}")
    result = run_in_process(*args, "--steps=2")  # train.py itself: test_config, the lock test
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(message, result.stderr), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "on_error" not in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_damaged_config_or_a_shorter_run_than_trained_exits_2_and_changes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    config = config_from_args(*TINY, "--steps=40")
    run = RunDirectory(str(run_dir))
    run.prepare(config, resume=False, overwrite=False)
    run.unlock()
    (run_dir / "checkpoints" / "ckpt-40.index").write_text("")  # trained to step 40
    before = (run_dir / "config.json").read_text()
    result = run_in_process(*TINY, f"--run_dir={run_dir}", "--steps=30")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "has trained 40 steps, more than the 30 asked for" in result.stderr
    assert (run_dir / "config.json").read_text() == before
    (run_dir / "config.json").write_text("[1, 2]")
    result = run_in_process(*TINY, f"--run_dir={run_dir}", "--steps=40")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "config.json' to hold the run's configuration" in result.stderr
    assert "Received: a JSON list" in result.stderr


def config_from_args(*args):
    from keras_models.cli import main

    main.FLAGS.unparse_flags()
    main.parse_flags(["train.py", *args])
    return main.config_from_flags()


def test_existing_run_is_not_overwritten_and_incompatible_resume_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "keep.txt").write_text("precious")
    result = run_in_process(*TINY, f"--run_dir={run_dir}", "--steps=2")
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert "--resume" not in result.stderr  # --resume (the default) gives this same error
    assert (run_dir / "keep.txt").read_text() == "precious"

    config = recipes.resolve("demo", {"width": 2, "resolution": 32})
    (run_dir / "keep.txt").unlink()
    (run_dir / MARKER).write_text("")
    (run_dir / "config.json").write_text(json.dumps({**config.to_dict(), "resolution": 64}))
    result = run_in_process(*TINY, f"--run_dir={run_dir}", "--steps=2")
    assert result.returncode == 2
    assert "resolution: 64 -> 32" in result.stderr


def test_overwrite_deletes_only_a_run_directory(tmp_path):
    config = recipes.resolve("demo")
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "image.png").write_bytes(b"precious")
    with pytest.raises(RunDirError, match="holds no run .* --overwrite deletes only those"):
        RunDirectory(str(folder)).prepare(config, resume=True, overwrite=True)
    assert (folder / "image.png").read_bytes() == b"precious"
    run = RunDirectory(str(tmp_path / "run"))
    run.prepare(config, resume=False, overwrite=False)
    (tmp_path / "run" / "samples" / "old.png").write_bytes(b"old")
    with pytest.raises(RunDirError, match="holds a run. Pass --resume"):
        run.prepare(config, resume=False, overwrite=False)
    assert run.prepare(config, resume=False, overwrite=True) is False
    assert not (tmp_path / "run" / "samples" / "old.png").exists()


# --- multi-worker ----------------------------------------------------------------------


def trainable_weight_keys():
    """Checkpoint keys of the trainable weights of G and D in the TINY configuration."""
    config = recipes.resolve("demo", {"width": 2, "resolution": 32, "jit_compile": False})
    gan = build.build_gan(config)
    return [
        f"{prefix}_weights/{i}/.ATTRIBUTES/VARIABLE_VALUE"
        for prefix, network in (("generator", gan.generator), ("discriminator", gan.discriminator))
        for i, weight in enumerate(network.weights)
        if weight.trainable
    ]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow  # two processes train; MirroredStrategy parity runs in the default set
def test_multi_worker_training_with_two_local_workers(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        run_dir = tmp_path / f"worker{index}"
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "train.py"),
                    *TINY,
                    "--strategy=multiworker",
                    f"--run_dir={run_dir}",
                    "--steps=2",
                    "--ckpt_every=2",
                    "--sample_every=100",
                    "--eval_every=100",
                    "--export=false",
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config), "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
        )
    try:
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    # Both workers hold the same trainable weights after the all-reduced steps (batch-norm
    # statistics are per worker: BigGAN's BN is not synchronised across replicas).
    first, second = (checkpoint_values(tmp_path / f"worker{i}", 2) for i in range(2))
    keys = trainable_weight_keys()
    assert len(keys) > 20 and set(keys) <= set(first)
    for name in keys:
        np.testing.assert_array_equal(second[name], first[name], err_msg=name)


# --- faults: divergence, write failures, two processes -----------------------------------


@pytest.mark.slow  # five runs in a row; exit status 1 in the default set: the test below
def test_a_diverged_run_keeps_its_last_good_checkpoint_and_resumes_with_lower_rates(tmp_path):
    run_dir = tmp_path / "run"
    checkpoints = run_dir / "checkpoints"
    common = [*TINY, f"--run_dir={run_dir}", "--ckpt_every=2", "--sample_every=100"]
    result = run_train(*common, "--steps=2", "--eval_every=2", "--export=false")
    assert result.returncode == 0, result.stderr[-3000:]
    # Learning rates of 1e6: the weights explode (SWD turns NaN) within two steps.
    huge = ["--g_learning_rate=1e6", "--d_learning_rate=1e6"]
    result = run_train(*common, "--steps=6", "--eval_every=2", *huge)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "training diverged at step 4" in result.stderr, result.stderr[-3000:]
    assert re.search(r"--g_learning_rate=100000 .*resumes from .*ckpt-2\.", result.stderr)
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-2")
    assert not list(checkpoints.glob("ckpt-4*")) and not (run_dir / "export").exists()
    assert not (run_dir / "train.lock").exists()
    # The advised recovery: lower rates, the same command. It resumes from step 2, which
    # the new --ckpt_every=3 does not divide, and checkpoints at step 5.
    (checkpoints / "ckpt-9_temp").mkdir()  # what a save killed mid-write leaves
    blocker = checkpoints / "ckpt-5.index"
    blocker.mkdir()  # the checkpoint cannot be written (like a full disk or no permission)
    recover = [*common, "--steps=5", "--eval_every=2", "--ckpt_every=3"]
    result = run_train(*recover)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert re.search(r"Could not write a checkpoint to .*ckpt-2\): fix", result.stderr)
    assert not (checkpoints / "ckpt-9_temp").exists()
    blocker.rmdir()
    result = run_train(*recover)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ckpt-2 at step 2." in result.stdout
    assert tf.train.latest_checkpoint(checkpoints).endswith("ckpt-5")
    assert (run_dir / "export" / "saved_model.pb").exists()
    # One finite row per evaluated step: the diverged run's and the failed one's are gone.
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [2, 4, 5]
    assert all(np.isfinite(row["swd"]) for row in rows)


def test_a_second_process_on_a_run_directory_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    holder = RunDirectory(str(run_dir))
    holder.lock()  # this test's process trains in it
    try:
        result = run_train(*TINY, f"--run_dir={run_dir}", "--steps=2")
    finally:
        holder.unlock()
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"is in use by process {os.getpid()} on {socket.gethostname()}" in result.stderr
    assert not (run_dir / "config.json").exists()


def test_start_up_prints_a_summary_without_native_log_lines(tmp_path):
    run_dir = tmp_path / "run"
    result = run_train(
        *TINY, f"--run_dir={run_dir}", "--steps=8", "--dry_run", env={"TF_CPP_MIN_LOG_LEVEL": None}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not re.search(r"^[IWEF]\d{4} |absl::InitializeLog", result.stderr, re.M), result.stderr
    lines = result.stdout.splitlines()
    assert "{" not in result.stdout  # the full config is in config.json, not printed
    assert [line.split(":")[0] for line in lines] == [
        "Preset demo on the full dataset",
        "Data",
        "Model",
        "Device",
        "Length",
        "Evaluation",
        "Run directory",
    ]
    assert "Data: emoji_faces at 32x32: " in result.stdout and "(+ 8 held out)" in result.stdout
    assert re.search(r"Model: biggan cifar32 width 2: G [\d,]+ \+ D [\d,]+ parameters", lines[2])
    assert "XLA off (--jit_compile=false)" in result.stdout
    assert "Length: 8 steps of 4 images" in result.stdout


@pytest.mark.slow  # a third TensorFlow start-up of these tests
def test_a_users_own_native_log_level_is_respected():
    # 0 shows TensorFlow's INFO lines.
    result = run_train(*TINY, "--dry_run", env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert re.search(r"^I\d{4} ", result.stderr, re.M), result.stderr[-3000:]


def test_overwrite_knows_every_file_and_folder_a_run_writes(tiny_run):
    run_dir, result = tiny_run
    assert result.returncode == 0, result.stderr[-3000:]
    written = {entry.name for entry in run_dir.iterdir()} - {MARKER, "export"}
    patterns = [re.compile(fnmatch.translate(pattern)) for pattern in RUN_OUTPUTS]
    assert all(any(p.match(name) for p in patterns) for name in written), written
    assert "export" in RUN_OUTPUTS and "nearest_export.png" in RUN_OUTPUTS  # `nearest`'s


def test_warnings_print_as_one_line_without_the_library_source(tiny_run):
    run_dir, result = tiny_run  # its lock was left by a process that no longer runs
    assert result.returncode == 0, result.stderr[-3000:]
    taken_over = f"UserWarning: Taking over the lock {run_dir / 'train.lock'} of process 999999"
    lines = result.stderr.splitlines()
    assert any(line.startswith(taken_over) for line in lines), result.stderr
    assert not any(".py:" in line or line.startswith("  ") for line in lines), result.stderr


def test_resuming_drops_the_metrics_rows_after_the_checkpoint_and_a_torn_row(tmp_path):
    run = RunDirectory(str(tmp_path))
    rows = [json.dumps({"step": step, "swd": 1.0}) + "\n" for step in (2, 4, 6)]
    (tmp_path / "metrics.jsonl").write_text("".join(rows) + '{"step": 8, "sw')  # killed
    run.drop_metrics_after(4)
    assert (tmp_path / "metrics.jsonl").read_text() == "".join(rows[:2])
