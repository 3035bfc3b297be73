"""train.py end to end: presets, run directory, exact resume, export/generate, bad input."""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_models import recipes
from keras_models.run_dir import RunDirectory, RunDirError

ROOT = pathlib.Path(__file__).resolve().parent.parent
# A tiny, fast configuration of the demo recipe (tiny BigGAN on the shipped emoji faces).
TINY = [
    "--preset=demo",
    "--width=2",
    "--resolution=32",
    "--batch_size=4",
    "--holdout=8",
    "--num_eval_images=16",
    "--jit_compile=false",
    "--deterministic",
]


def run_train(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
    )


def checkpoint_values(run_dir, step):
    reader = tf.train.load_checkpoint(os.path.join(run_dir, "checkpoints", f"ckpt-{step}"))
    return {
        n: reader.get_tensor(n)
        for n in reader.get_variable_to_shape_map()
        if not n.startswith("_CHECKPOINTABLE")
    }


# --- presets ---------------------------------------------------------------------------


def readme_preset_table():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- presets-table -->")[1].split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in block.strip().splitlines()[2:]]
    header = [h.strip() for h in block.strip().splitlines()[0].strip("|").split("|")]
    return {
        r[0].strip().strip("`"): dict(zip(header[1:], [c.strip() for c in r[1:]], strict=True))
        for r in rows
    }


def test_every_preset_resolves_to_the_values_the_readme_documents():
    table = readme_preset_table()
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
        optimizer = recipes.adam(config, network)
        assert float(optimizer.learning_rate) == pytest.approx(lr)
        assert (optimizer.beta_1, optimizer.beta_2) == (config.adam_beta_1, config.adam_beta_2)


# --- end to end ------------------------------------------------------------------------


def test_tiny_run_writes_its_outputs_and_the_export_generates_in_a_fresh_process(tmp_path):
    run_dir = tmp_path / "run"
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
    # The README's interpolation command (slerp gives float64 latents), and bad input.
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


def test_interrupted_and_resumed_run_ends_bitwise_equal_even_from_a_corrupt_checkpoint(tmp_path):
    common = [*TINY, "--ckpt_every=2", "--sample_every=100", "--eval_every=100", "--export=false"]
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert run_train(*common, f"--run_dir={straight}", "--steps=6").returncode == 0
    assert run_train(*common, f"--run_dir={interrupted}", "--steps=4").returncode == 0
    # The newest checkpoint is damaged (e.g. the disk filled up): resume must fall back.
    data_file = next((interrupted / "checkpoints").glob("ckpt-4.data-*"))
    data_file.write_bytes(b"garbage")
    result = run_train(*common, f"--run_dir={interrupted}", "--steps=6")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "falling back to the previous one" in result.stderr
    assert "at step 2" in result.stdout
    expected, resumed = checkpoint_values(straight, 6), checkpoint_values(interrupted, 6)
    assert expected.keys() == resumed.keys() and len(expected) > 20
    for name, value in expected.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


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
    ],
)
def test_bad_input_exits_2_with_a_clear_message_before_training(tmp_path, args, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.replace("EMPTY", str(empty)) for a in args]
    if not any(a.startswith("--run_dir") for a in args):
        args.append(f"--run_dir={tmp_path / 'run'}")
    result = run_train(*args, "--steps=2")
    assert result.returncode == 2, result.stderr[-2000:]
    assert re.search(re.escape(message), result.stderr), result.stderr[-2000:]
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_existing_run_is_not_overwritten_and_incompatible_resume_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "keep.txt").write_text("precious")
    result = run_train(*TINY, f"--run_dir={run_dir}", "--steps=2")
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (run_dir / "keep.txt").read_text() == "precious"

    config = recipes.resolve("demo", {"width": 2, "resolution": 32})
    (run_dir / "keep.txt").unlink()
    (run_dir / "config.json").write_text(json.dumps({**config.to_dict(), "resolution": 64}))
    result = run_train(*TINY, f"--run_dir={run_dir}", "--steps=2")
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
    gan = recipes.build_gan(config)
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
