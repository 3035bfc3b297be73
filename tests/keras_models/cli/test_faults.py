"""Faults injected into real training processes (`tests.helpers.faults`): SIGTERM and
SIGINT save the step and stop, kill -9 mid-step or mid-checkpoint loses only the steps
since the last checkpoint, a damaged index or checkpoint is worked around, and every
resumed run ends bitwise equal to an uninterrupted one."""

import concurrent.futures

import numpy as np
import pytest

from tests.helpers.runs import TINY, checkpoint_values, run_train

STEPS = 8
COMMON = [
    *TINY,
    "--ckpt_every=2",
    "--sample_every=100",
    "--eval_every=100",
    "--export=false",
    f"--steps={STEPS}",
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The run every interrupted one must end equal to, training beside them (each
    process is mostly single-threaded start-up and tracing)."""
    run_dir = tmp_path_factory.mktemp("uninterrupted") / "run"
    with concurrent.futures.ThreadPoolExecutor(1) as beside:
        result = beside.submit(run_train, *COMMON, f"--run_dir={run_dir}")
        yield run_dir, result


def assert_same_final_checkpoint(uninterrupted, run_dir):
    straight_dir, straight = uninterrupted
    assert straight.result().returncode == 0, straight.result().stderr[-3000:]
    expected, resumed = checkpoint_values(straight_dir, STEPS), checkpoint_values(run_dir, STEPS)
    assert expected.keys() == resumed.keys() and len(expected) > 20
    # How many saves the run made is bookkeeping: an interrupted run saves more often.
    del expected["save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    for name, value in expected.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


def last_line(result):
    return result.stderr.strip().splitlines()[-1]


def test_signals_save_and_resume_exactly_past_a_damaged_index_and_checkpoint(
    uninterrupted, tmp_path
):
    run_dir, checkpoints = tmp_path / "run", tmp_path / "run" / "checkpoints"
    # SIGTERM (preemption) as step 3 runs: the step ends, is saved, the lock released.
    result = run_train(*COMMON, f"--run_dir={run_dir}", fault="SIGTERM@3")
    assert result.returncode == 143, result.stderr[-3000:]
    assert last_line(result) == (
        f"train.py: stopped by SIGTERM at step 3 of {STEPS}, after saving "
        f"{checkpoints / 'ckpt-3'}. Run the same command again to resume."
    )
    assert "Traceback" not in result.stderr and not (run_dir / "train.lock").exists()
    # A damaged index: the checkpoints are found by their files.
    (checkpoints / "checkpoint").write_text("garbage {")
    result = run_train(*COMMON, f"--run_dir={run_dir}", fault="SIGINT@5")  # Ctrl-C
    assert result.returncode == 130, result.stderr[-3000:]
    assert f"Resuming from {checkpoints / 'ckpt-3'} at step 3." in result.stdout
    assert "rewrote it from their files (ckpt-2, ckpt-3)" in result.stderr
    assert last_line(result).startswith("train.py: stopped by SIGINT at step 5 of 8, after")
    # The newest checkpoint damaged (e.g. a full disk): resume falls back to the one before.
    next(checkpoints.glob("ckpt-5.data-*")).write_bytes(b"garbage")
    result = run_train(*COMMON, f"--run_dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ckpt-5 could not be restored" in result.stderr
    assert f"Resuming from {checkpoints / 'ckpt-3'} at step 3." in result.stdout
    assert_same_final_checkpoint(uninterrupted, run_dir)


@pytest.mark.slow  # three more runs; the signals' test above covers the resume path
def test_kill_9_mid_step_and_mid_checkpoint_lose_only_the_steps_since_the_last_one(
    uninterrupted, tmp_path
):
    run_dir, checkpoints = tmp_path / "run", tmp_path / "run" / "checkpoints"
    result = run_train(*COMMON, f"--run_dir={run_dir}", fault="SIGKILL@4")  # mid-step
    assert result.returncode == -9
    # Killed after ckpt-4's files were written, before the index named it.
    result = run_train(*COMMON, f"--run_dir={run_dir}", fault="SIGKILL@checkpoint")
    assert result.returncode == -9
    assert f"Resuming from {checkpoints / 'ckpt-2'} at step 2." in result.stdout
    result = run_train(*COMMON, f"--run_dir={run_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Taking over the lock" in result.stderr  # the killed process held it
    assert f"Resuming from {checkpoints / 'ckpt-4'} at step 4." in result.stdout
    assert_same_final_checkpoint(uninterrupted, run_dir)
