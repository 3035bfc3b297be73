"""What a run writes for people to read: its report and a preview of its augmentation.

`write_report` writes `report.md` (the configuration, the last epoch's logs, the metrics
over training, the adaptive augmentation probability over training and D's overfitting
signal) and `report.json` (the same, for scripts such
as benchmarks/ablation.py); `write_augmentation_preview` shows what D sees of the data.
"""

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

import tf_diffaug
from keras_models import recipes
from keras_models.config import TrainConfig
from keras_models.images import image_grid, save_png
from keras_models.run_dir import RunDirectory
from tf_diffaug import parse_policy

# What `callbacks.StrengthRecorder` records of an adaptive strength, and how it is shown.
STRENGTH_LOGS = ("augment_p", "r_t")
STRENGTH_FIGURE = "strength.png"
STRENGTH_ROWS = 20  # rows of the report's table (the figure shows every record)


def write_report(
    run_dir: RunDirectory,
    config: TrainConfig,
    history: dict[str, list[float]],
    evaluations: Sequence[dict[str, Any]] = (),
    overfitting: Sequence[dict[str, Any]] = (),
    initial_weights: str | None = None,
) -> None:
    """Writes `report.md` and `report.json` of a finished run.

    Args:
        run_dir: the run's `keras_models.run_dir.RunDirectory`.
        config: its `keras_models.config.TrainConfig`.
        history: `fit`'s `History.history` (name -> per-epoch values).
        evaluations: `MetricEvaluator.history` records.
        overfitting: `OverfittingMonitor.history` records.
        initial_weights: the checkpoint or weights file `--init_from` loaded, if any.
    """
    lines = [
        f"# Run report: {config.preset}",
        "",
        *recipes.evaluation(config),
        "",
        "```json",
        json.dumps(config.to_dict(), indent=1),
        "```",
    ]
    if initial_weights:
        lines += [
            "",
            "## Fine-tuning",
            "",
            f"- G, D and EMA G initialised from `{initial_weights}` "
            f"(--init_from={config.init_from})",
            f"- discriminator blocks frozen (FreezeD): {config.freeze_d}",
        ]
    if history:
        last = {k: v[-1] for k, v in history.items()}
        lines += ["", "## Final epoch", ""] + [f"- {k}: {v:.4f}" for k, v in sorted(last.items())]
    if evaluations:
        lines += [
            "",
            "## Metrics over training",
            "",
            "| step | metric | value |",
            "|---:|---|---:|",
        ]
        lines += [
            f"| {r['step']} | {name} | {value:.4f} |"
            for r in evaluations
            for name, value in r.items()
            if name not in ("step", *STRENGTH_LOGS) and isinstance(value, float)
        ]
    strength = strength_history(run_dir.metrics_path)
    if strength:
        figure = os.path.join(run_dir.path, STRENGTH_FIGURE)
        write_strength_figure({"": strength}, config.ada_target, figure)
        shown = strength[:: -(-len(strength) // STRENGTH_ROWS)]
        shown += [] if shown[-1] is strength[-1] else [strength[-1]]
        lines += [
            "",
            "## Augmentation probability over training (adaptive p)",
            "",
            "r_t: mean sign of D's logits on the reals of the last adjustment interval; p "
            f"rises while r_t is above its target ({config.ada_target:g}).",
            "",
            f"![adaptive p and r_t over training]({STRENGTH_FIGURE})",
            "",
            "| step | p | r_t |",
            "|---:|---:|---:|",
        ]
        lines += [f"| {r['step']} | {r['augment_p']:.4f} | {r['r_t']:.3f} |" for r in shown]
    if overfitting:
        lines += ["", "## Discriminator overfitting signal (sign accuracy on reals)", ""]
        lines += ["| step | train | held-out | gap |", "|---:|---:|---:|---:|"]
        lines += [
            f"| {r['step']} | {r['d_accuracy_train']:.3f} | {r['d_accuracy_heldout']:.3f} "
            f"| {r['accuracy_gap']:.3f} |"
            for r in overfitting
        ]
    with open(run_dir.report_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    report = {
        "config": config.to_dict(),
        "initial_weights": initial_weights,
        "history": history,
        "evaluations": [{k: v for k, v in r.items() if k != "protocols"} for r in evaluations],
        "overfitting": list(overfitting),
    }
    with open(os.path.join(run_dir.path, "report.json"), "w") as f:
        json.dump(report, f, indent=1, default=float)


def strength_history(metrics_path: str) -> list[dict[str, float]]:
    """`{"step", "augment_p", "r_t"}` records of a run's `metrics.jsonl` (the whole run,
    across resumes; a step evaluated again after a resume counts once, as last
    written), or [] without an adaptive strength.

    Args:
        metrics_path: the run's `metrics.jsonl`.
    """
    if not os.path.exists(metrics_path):
        return []
    by_step = {}
    with open(metrics_path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if "augment_p" in record:
                by_step[record["step"]] = {k: record[k] for k in ("step", *STRENGTH_LOGS)}
    return [by_step[step] for step in sorted(by_step)]


def write_strength_figure(
    runs: dict[str, list[dict[str, float]]], target: float, path: str, title: str = ""
) -> None:
    """Writes the adaptive p and r_t over training, one line per run, with r_t's target,
    as a PNG.

    Args:
        runs: `{label: strength_history records}` (label "" for a single run).
        target: the controller's r_t target.
        path: the PNG's path.
        title: the figure's title.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.5), sharex=True)
    for label, records in runs.items():
        steps = [r["step"] for r in records]
        top.plot(steps, [r["r_t"] for r in records], label=label or "r_t")
        bottom.plot(steps, [r["augment_p"] for r in records])
    top.axhline(target, color="gray", linestyle="--", label=f"target {target:g}")
    top.set_ylabel("r_t")
    top.set_title(title)
    top.legend(fontsize=8)
    bottom.set_ylabel("p")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_xlabel("step")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_augmentation_preview(
    path: str, images: np.ndarray, policy: str, seed: int, count: int = 8
) -> None:
    """Writes what D sees of the training data, as a PNG; nothing without a policy.

    Args:
        path: the PNG's path.
        images: real images, NHWC in [-1, 1].
        policy: the DiffAugment policy.
        seed: seed of the augmentation's draws.
        count: images per row: the first row shows them as they are, then one row per
            op of the policy and a last row with the whole policy.
    """
    ops = parse_policy(policy)
    if not ops:
        return
    reals = images[:count]
    rows = [reals] + [
        tf_diffaug.diff_augment(reals, policy, seed=seed).numpy()
        for policy in (*[[op] for op in ops], list(ops))
    ]
    save_png(image_grid(np.concatenate(rows), len(reals)), path)
