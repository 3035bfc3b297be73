"""train.py in a subprocess (or the command line in this process) at a tiny size, and
what its checkpoints hold."""

import contextlib
import io
import os
import pathlib
import subprocess
import sys

import tensorflow as tf

ROOT = pathlib.Path(__file__).resolve().parents[2]
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


def run_train(*args, env=None, timeout=600, fault=None):
    """train.py in a subprocess; `env` adds variables (a None value removes one), `fault`
    injects one (`tests.helpers.faults`, e.g. "SIGTERM@3")."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    command = ["-m", "tests.helpers.faults", fault] if fault else [str(ROOT / "train.py")]
    return subprocess.run(
        [sys.executable, *command, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={k: v for k, v in env.items() if v is not None},
    )


def run_in_process(*args):
    """The command line on `args` in this process (no TensorFlow start-up per call),
    reported as `run_train` reports a subprocess: exit status, stdout and stderr."""
    from keras_models.cli import main

    argv = ["train.py", *args]
    out, err = io.StringIO(), io.StringIO()
    main.FLAGS.unparse_flags()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main.main(main.parse_flags(argv))
            status = 0
        except SystemExit as exit:
            status = exit.code
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def checkpoint_values(run_dir, step):
    reader = tf.train.load_checkpoint(os.path.join(run_dir, "checkpoints", f"ckpt-{step}"))
    return {
        n: reader.get_tensor(n)
        for n in reader.get_variable_to_shape_map()
        if not n.startswith("_CHECKPOINTABLE")
    }
