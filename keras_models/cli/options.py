"""How and where a training run runs (not what it trains): `RunOptions` and their flags.

What a run trains is its `keras_models.config.TrainConfig`; `RunOptions` says where it
writes (`run_dir`), whether it resumes or starts afresh, on which `tf.distribute`
strategy it runs, and what it does at the end. `define_run_flags` defines one flag per
option; `RunOptions.from_flags` reads them back.
"""

import dataclasses
import os

from absl import flags

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Where and how a `keras_models.cli.Training` runs.

    Attributes:
        run_dir: the run directory (config, checkpoints, logs, samples); None:
            `runs/<preset>`.
        resume: continue the run in `run_dir` when it holds one.
        overwrite: delete the run in `run_dir` first.
        strategy: the `tf.distribute` strategy, one of `STRATEGIES`; multiworker reads
            TF_CONFIG.
        tpu: TPU name or address for `strategy="tpu"`.
        export: export the EMA generator as a SavedModel at the end.
        deterministic: enable TensorFlow op determinism.
        dry_run: resolve and print the config, build the models, then stop.
    """

    run_dir: str | None = None
    resume: bool = True
    overwrite: bool = False
    strategy: str = "default"
    tpu: str | None = None
    export: bool = True
    deterministic: bool = False
    dry_run: bool = False

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"Expected strategy in {{{', '.join(STRATEGIES)}}}. "
                f"Received: strategy={self.strategy!r}."
            )

    def run_dir_of(self, preset: str) -> str:
        """The run directory: `run_dir`, or `runs/<preset>` when none is given."""
        return self.run_dir or os.path.join("runs", preset)

    @classmethod
    def from_flags(cls, flag_values: flags.FlagValues = flags.FLAGS) -> "RunOptions":
        """The options as parsed by `define_run_flags`'s flags.

        Args:
            flag_values: parsed flags holding `define_run_flags`'s flags.

        Returns:
            The options.
        """
        return cls(**{f.name: flag_values[f.name].value for f in dataclasses.fields(cls)})


def define_run_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines one flag per `RunOptions` field, with its default.

    Args:
        flag_values: where to define them (absl's global `FLAGS` by default).
    """
    define = dict(flag_values=flag_values)
    flags.DEFINE_string(
        "run_dir", None, "Run directory (config, checkpoints, logs, samples).", **define
    )
    flags.DEFINE_bool("resume", True, "Continue the run in --run_dir when it holds one.", **define)
    flags.DEFINE_bool("overwrite", False, "Delete an existing --run_dir first.", **define)
    flags.DEFINE_enum(
        "strategy",
        "default",
        list(STRATEGIES),
        "tf.distribute strategy; multiworker reads TF_CONFIG.",
        **define,
    )
    flags.DEFINE_string("tpu", None, "TPU name or address for --strategy=tpu.", **define)
    flags.DEFINE_bool(
        "export", True, "Export the EMA generator as a SavedModel at the end.", **define
    )
    flags.DEFINE_bool("deterministic", False, "Enable TensorFlow op determinism.", **define)
    flags.DEFINE_bool(
        "dry_run", False, "Resolve and print the config, build the models, exit.", **define
    )
