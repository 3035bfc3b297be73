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


def _option(default, help):
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Where and how a `keras_models.cli.Training` runs (each field's help says what it
    does; `strategy` is one of `STRATEGIES`, multiworker reads TF_CONFIG).

    `run_dir` None means `runs/<preset>` (`run_dir_of`).
    """

    run_dir: str | None = _option(None, "Run directory (config, checkpoints, logs, samples).")
    resume: bool = _option(True, "Continue the run in --run_dir when it holds one.")
    overwrite: bool = _option(False, "Delete an existing --run_dir first.")
    strategy: str = _option("default", "tf.distribute strategy; multiworker reads TF_CONFIG.")
    tpu: str | None = _option(None, "TPU name or address for --strategy=tpu.")
    export: bool = _option(True, "Export the EMA generator as a SavedModel at the end.")
    deterministic: bool = _option(False, "Enable TensorFlow op determinism.")
    dry_run: bool = _option(False, "Resolve and print the config, build the models, exit.")

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
    """Defines one flag per `RunOptions` field, of its name, type, default and help.

    Args:
        flag_values: where to define them (absl's global `FLAGS` by default).
    """
    for field in dataclasses.fields(RunOptions):
        name, default, help = field.name, field.default, field.metadata["help"]
        if name == "strategy":
            flags.DEFINE_enum(name, default, STRATEGIES, help, flag_values=flag_values)
        elif field.type is bool:
            flags.DEFINE_bool(name, default, help, flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, help, flag_values=flag_values)
