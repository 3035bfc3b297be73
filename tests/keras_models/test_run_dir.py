"""The run directory: what counts as a run, what --overwrite deletes, which resumes are
refused before anything changes, and the lock that one process at a time holds."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from keras_models import recipes
from keras_models.run_dir import MARKER, RunDirectory, RunDirError
from tests.helpers.runs import ROOT

CONFIG = recipes.resolve("demo", {"steps": 40})


def make_run(path, config=CONFIG):
    run = RunDirectory(str(path))
    run.prepare(config, resume=False, overwrite=False)
    run.unlock()
    return run


def test_a_config_json_alone_is_no_run_and_overwrite_deletes_no_user_file(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "config.json").write_text('{"name": "x"}')
    (project / "thesis.tex").write_text("precious")
    with pytest.raises(RunDirError, match=f"holds no run \\(no {MARKER} marker\\)"):
        RunDirectory(str(project)).prepare(CONFIG, resume=True, overwrite=True)
    assert (project / "thesis.tex").read_text() == "precious"
    assert json.loads((project / "config.json").read_text()) == {"name": "x"}


def test_overwrite_deletes_only_what_a_run_writes(tmp_path):
    run = make_run(tmp_path / "run")
    for name in ("samples/old.png", "metrics.jsonl", "reference_statistics_test.npz"):
        (tmp_path / "run" / name).write_text("old")
    (tmp_path / "run" / "notes.txt").write_text("mine")
    (tmp_path / "run" / "export").mkdir()
    assert run.prepare(CONFIG, resume=False, overwrite=True) is False
    run.unlock()
    left = {p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*")}
    assert left == {MARKER, "notes.txt", "config.json", "checkpoints", "logs", "samples"}


@pytest.mark.parametrize(
    "content, received",
    [("[1, 2]", "Received: a JSON list"), ("{bad", "Received: JSONDecodeError: Expecting")],
)
def test_a_damaged_config_json_is_named_and_overwrite_still_works(tmp_path, content, received):
    run = make_run(tmp_path / "run")
    (tmp_path / "run" / "config.json").write_text(content)
    path = str(tmp_path / "run" / "config.json")
    with pytest.raises(RunDirError, match=f"Expected '{path}' to hold .* {received}"):
        run.prepare(CONFIG, resume=True, overwrite=False)
    assert (tmp_path / "run" / "config.json").read_text() == content  # changed nothing
    assert not (tmp_path / "run" / "train.lock").exists()
    run.prepare(CONFIG, resume=True, overwrite=True)
    run.unlock()
    assert json.loads((tmp_path / "run" / "config.json").read_text())["steps"] == 40


def test_a_run_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunDirError, match="Expected --run_dir to be a folder .* a file"):
        RunDirectory(str(tmp_path / "file")).prepare(CONFIG, resume=True, overwrite=False)


def test_resuming_with_fewer_steps_than_trained_is_refused_before_any_change(tmp_path):
    make_run(tmp_path / "run")
    (tmp_path / "run" / "checkpoints" / "ckpt-40.index").write_text("")
    before = (tmp_path / "run" / "config.json").read_text()
    shorter = recipes.resolve("demo", {"steps": 30})
    with pytest.raises(RunDirError, match="has trained 40 steps, more than the 30 asked for"):
        RunDirectory(str(tmp_path / "run")).prepare(shorter, resume=True, overwrite=False)
    assert (tmp_path / "run" / "config.json").read_text() == before


def test_the_lock_dies_with_its_process_and_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_AND_WAIT, str(run_dir)], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(RunDirError, match=f"in use by process {holder.pid} on "):
            RunDirectory(str(run_dir)).lock()
    finally:
        holder.kill()
        holder.wait()
    run = RunDirectory(str(run_dir))
    with pytest.warns(UserWarning, match=f"Taking over the lock .* of process {holder.pid} on "):
        run.lock()
    assert (run_dir / "train.lock").read_text() == f"{os.getpid()} {socket.gethostname()}"
    run.unlock()
    assert not (run_dir / "train.lock").exists()


LOCK_AND_WAIT = """
import sys, time
from keras_models.run_dir import RunDirectory
run = RunDirectory(sys.argv[1])
run.lock()
print("locked", flush=True)
time.sleep(60)
"""

# Two processes take the lock of the same stale run directory at the same moment, for
# each of many directories; prints "<index> locked" or "<index> busy" per directory.
RACE = """
import sys, time, warnings
from keras_models.run_dir import RunDirectory, RunDirError
warnings.simplefilter("ignore")
folders, start = sys.argv[1:-1], float(sys.argv[-1])
held = []  # every lock taken is held to the end, whatever the other process's timing
for index, folder in enumerate(folders):
    run = RunDirectory(folder)
    time.sleep(max(0.0, start + 0.05 * index - time.time()))
    try:
        run.lock()
        held.append(run)
        print(index, "locked", flush=True)
    except RunDirError:
        print(index, "busy", flush=True)
time.sleep(1.0)
"""


TRIALS = 50


def test_two_processes_racing_for_a_stale_lock_never_both_take_it(tmp_path):
    folders = []
    for index in range(TRIALS):
        folder = tmp_path / f"run{index}"
        folder.mkdir()
        (folder / "train.lock").write_text(f"999999 {socket.gethostname()}")  # killed
        folders.append(str(folder))
    start = time.time() + 8.0  # both processes started and imported by then
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, *folders, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [racer.communicate(timeout=120)[0].split("\n") for racer in racers]
    locked = [sum(f"{index} locked" in lines for lines in outcomes) for index in range(TRIALS)]
    assert locked == [1] * TRIALS
