"""The adaptive experiment's pure functions: second-half means, the table's cells and the
verdicts against the better and the worse fixed setting."""

import os
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

import adaptive_experiment as adaptive  # noqa: E402

from keras_models.metrics.noise import NoiseFloor  # noqa: E402


def record(fid, r_t=(0.1, 0.2, 0.5, 0.7), p=None):
    steps = [250, 500, 750, 1000]
    strength = (
        []
        if p is None
        else [{"step": s, "augment_p": v, "r_t": 0.6} for s, v in zip(steps, p, strict=True)]
    )
    return {"fid": fid, "swd": 40.0, "gap": 0.1, "r_t_curve": [steps, list(r_t)],
            "strength": strength}  # fmt: skip


FLOORS = {
    (adaptive.ALL_FLOORS, m, 256): NoiseFloor(adaptive.ALL_FLOORS, m, 256, 1.0, 1.0, 0, 0, 5)
    for m in ("fid", "swd")
}


def test_late_mean_averages_the_second_half_of_training():
    run = record(10.0, p=(0.0, 0.2, 0.4, 0.8))
    assert adaptive.late_mean(run, "r_t_curve") == (0.5 + 0.7) / 2
    assert abs(adaptive.late_mean(run, "augment_p") - 0.6) < 1e-12


def test_verdicts_compare_adaptive_with_the_better_and_the_worse_fixed_setting():
    records = {
        100: {  # p = 1 is better here; adaptive matches it within the floor
            "none": {0: record(30.0), 1: record(32.0)},
            "fixed p = 1": {0: record(20.0), 1: record(21.0)},
            "adaptive p": {0: record(21.0), 1: record(21.5), 2: record(50.0)},  # seed 2 alone
        },
        1511: {"none": {0: record(10.0)}, "fixed p = 1": {}, "adaptive p": {0: record(11.0)}},
    }
    floor = FLOORS[(adaptive.ALL_FLOORS, "fid", 256)]
    (line,) = adaptive.verdicts(records, floor)  # 1511: no seed finished in all three
    assert line.startswith("- 100 images, seeds [0, 1]: adaptive FID +0.8 vs p = 1 (within")
    assert "-9.8 vs none (beyond floor and seeds)" in line


def test_table_marks_differences_from_none_and_shows_p_only_where_it_moves():
    records = {
        100: {
            "none": {0: record(30.0), 1: record(32.0)},
            "fixed p = 1": {0: record(20.0), 1: record(21.0)},
            "adaptive p": {0: record(25.0, p=(0, 0, 0.5, 0.7))},
        }
    }
    args = types.SimpleNamespace(steps=2000, width=8, ada_target=0.6, ada_kimg=4)
    rows = [line.split(" | ") for line in adaptive.table(records, FLOORS, args)[3:6]]
    assert rows[0][2:5] == ["0, 1", "31.0 ± 1.0", "—"]
    assert rows[1][4] == "**-10.5**" and rows[1][-1] == "1 |"
    assert rows[2][4] == "**-5.0**"  # seed 0 only: the floor alone decides
    assert rows[2][-1] == "0.60 |"
