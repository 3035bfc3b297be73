"""The comparison experiments' logic: run order, the D-gap cell, Δ over common seeds."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

import comparison  # noqa: E402
import lecam_experiment as lecam  # noqa: E402

from keras_models.metrics.noise import NoiseFloor  # noqa: E402

FACES = comparison.FACES_FLOORS
START_1000 = "+ lecam 0.3 (start 1000)"


def report(fid, gap=0.1):
    steps = range(250, 2001, 250)
    metrics = {"kid": 0.1, "precision": 0.9, "recall": 0.4, "swd": 50.0}
    return {
        "evaluations": [{"step": s, "fid": fid, **metrics} for s in steps],
        "overfitting": [{"step": s, "accuracy_gap": gap} for s in steps],
    }


def test_run_order_interleaves_the_main_comparison_by_seed_then_the_rest():
    order = comparison.run_order(["a", "b", "c"], [0, 1])
    assert order == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("c", 0), ("c", 1)]


def test_gap_cell_uses_the_seed_spread_alone_and_needs_two_seeds_a_side():
    assert comparison.gap_cell([0.10, 0.12, 0.11], [0.30, 0.31, 0.29]) == "**+0.19**"
    assert comparison.gap_cell([0.0, 0.2, 0.1], [0.1, 0.3, 0.2]) == "+0.10"  # within 2 SE
    assert comparison.gap_cell([0.1], [0.3]) == "+0.20"  # one seed: never bold


def test_table_compares_over_the_seeds_finished_in_both():
    floors = {
        (FACES, m, 100): NoiseFloor(FACES, m, 100, 1.0, 1.0, 0, 0, 5)
        for m in ("fid", "kid", "precision", "recall", "swd")
    }
    finished = {
        lecam.BASELINE: {0: report(10.0), 1: report(30.0)},
        START_1000: {0: report(20.0)},
        "+ lecam 0.3 (start 100)": {},
    }
    lines = comparison.table(finished, floors, lecam.BASELINE, "2000 steps.")
    rows = [line.split(" | ") for line in lines[3:]]
    assert [r[0] for r in rows] == [f"| {lecam.BASELINE}", f"| {START_1000}"]  # none unrun
    assert rows[0][1:4] == ["0, 1", "20.0 ± 10.0", "—"]
    # Seed 0 only: 20 - 10, beyond the floor (2 * sqrt(2) * 1), one seed per side.
    assert rows[1][1:4] == ["0", "20.0", "**+10.0**"]


def test_recorded_keeps_a_run_by_its_command_whatever_the_run_directory(tmp_path):
    import ablation

    path = str(tmp_path / "records" / "a-s0.json")
    calls = []

    def measure():
        calls.append(1)
        return {"fid": 12.5}

    command = ["train.py", "--run_dir=/here/a-s0", "--seed=0"]
    assert ablation.recorded(path, command, measure) == {
        "command": ["train.py", "--seed=0"],
        "fid": 12.5,
    }
    moved = ["train.py", "--run_dir=/elsewhere/a-s0", "--seed=0"]
    assert ablation.recorded(path, moved, measure)["fid"] == 12.5
    assert ablation.recorded(path, moved) == ablation.recorded(path, moved, measure)
    assert len(calls) == 1  # trained once
    # Another command is another run: measured again, or nothing without `measure`.
    assert ablation.recorded(path, ["train.py", "--seed=1"]) is None
    assert ablation.recorded(path, ["train.py", "--seed=1"], measure)["command"][-1] == "--seed=1"
    assert len(calls) == 2
    assert os.listdir(tmp_path / "records") == ["a-s0.json"]  # no temporary file left
