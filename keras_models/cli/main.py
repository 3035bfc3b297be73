"""Train a GAN with DiffAugment; resume exactly; export, sample and check memorisation.

    tf-diffaug-train --preset=demo --run_dir=runs/demo            # a few CPU minutes
    tf-diffaug-train --preset=biggan_cifar10 --percent=10 --kimg=25000 --run_dir=runs/c10-10
    tf-diffaug-train --preset=stylegan2_fewshot --dataset=/data/100-shot-obama --run_dir=...
    tf-diffaug-train --preset=demo --init_from=runs/demo --freeze_d=2 --run_dir=runs/ft
    tf-diffaug-train generate --export_dir=runs/demo/export --output=grid.png
    tf-diffaug-train nearest --run_dir=runs/demo --output=nearest.png
    tf-diffaug-train evaluate --run_dir=runs/demo --inception_weights=classify_image_graph_def.pb

(`python train.py ...` in a checkout is the same command.) Every field of
`keras_models.config.TrainConfig` is a flag of the same name that overrides the preset's
value; the resolved configuration is written to `<run_dir>/config.json` (a summary is
printed). Running again with the same --run_dir resumes from the latest checkpoint with
the same next batch and random streams (see keras_models/run_dir.py).
Bad input (invalid values, unknown preset or dataset, no images, missing weights,
unwritable, busy or incompatible run dir) exits with status 2 before any training starts;
a run that diverges or cannot write its outputs exits with status 1, resumable. SIGINT
(Ctrl-C) or SIGTERM (preemption) ends the step under way, saves a checkpoint and exits
with status 130 or 143 (128 + the signal's number); a second one stops at once. Either
way the same command resumes, losing at most the steps since the last checkpoint.

This module is the command line only: flags -> `TrainConfig` (keras_models.cli.flags,
keras_models.recipes) and `RunOptions` (keras_models.cli.options) -> `Training`
(keras_models.cli.training); `generate`, `nearest` and `evaluate` are
keras_models.cli.commands.
"""

import os
import signal
import sys
import warnings

from keras_models.cli import native_logs

native_logs.import_tensorflow()  # first: TensorFlow's start-up lines, filtered

from absl import app, flags, logging  # noqa: E402

from keras_models import recipes  # noqa: E402
from keras_models.cli import commands, options  # noqa: E402
from keras_models.cli import flags as config_flags  # noqa: E402
from keras_models.cli.errors import (  # noqa: E402
    INPUT_ERRORS,
    Interrupted,
    SignalReceived,
    TrainingError,
    UsageError,
    raise_on_signal,
)
from keras_models.cli.training import Training  # noqa: E402
from keras_models.config import TrainConfig  # noqa: E402

FLAGS = flags.FLAGS
COMMANDS = ("train", "generate", "nearest", "evaluate")
# What to train (one flag per config field), where and how, and the sampling commands'.
FLAG_MODULES = (config_flags, options, commands)
config_flags.define_flags(FLAGS)
options.define_run_flags(FLAGS)
commands.define_command_flags(FLAGS)


def config_from_flags(flag_values: flags.FlagValues = FLAGS) -> TrainConfig:
    """The `TrainConfig` of --preset with the config flags given on the command line.

    Raises:
        ValueError: an unknown preset or an invalid value (`ConfigError`).
    """
    overrides = config_flags.flag_overrides(flag_values)
    return recipes.resolve(overrides.pop("preset", TrainConfig.preset), overrides)


def main(argv: list[str]) -> None:
    """Runs the command in `argv` (after flag parsing) with the parsed `FLAGS`.

    Exits with status 2 on bad input, 1 when a started run cannot go on, and 128 + the
    signal's number when SIGINT or SIGTERM stopped it.
    """
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # TensorFlow's INFO lines drown the progress bar
    try:
        run_command(argv)
    except Interrupted as error:
        exit_with(str(error), error.status)
    except (SignalReceived, KeyboardInterrupt) as received:
        signum = getattr(received, "signal", signal.SIGINT)
        exit_with(f"stopped by {signum.name}.", 128 + int(signum))


def run_command(argv: list[str]) -> None:
    """`main` without the handling of signals."""
    command = argv[1] if len(argv) > 1 else "train"
    try:
        if command not in COMMANDS or len(argv) > 2:
            raise UsageError(f"Unknown command {argv[1:]}. Commands: {', '.join(COMMANDS)}.")
        common = dict(export_dir=FLAGS.export_dir, output=FLAGS.output, seed=FLAGS.seed or 0)
        if command == "generate":
            return commands.generate(
                run_dir=FLAGS.run_dir,
                num_samples=FLAGS.num_samples,
                truncation=FLAGS.truncation,
                interpolate=FLAGS.interpolate,
                label=FLAGS.label,
                output_dir=FLAGS.output_dir,
                **common,
            )
        if command == "nearest":
            return commands.nearest(run_dir=FLAGS.run_dir, label=FLAGS.label, **common)
        if command == "evaluate":
            commands.evaluate(
                run_dir=FLAGS.run_dir,
                export_dir=FLAGS.export_dir,
                output=FLAGS.output,
                label=FLAGS.label,
                overrides=config_flags.flag_overrides(FLAGS),
            )
            return
        training = Training(config_from_flags(), options.RunOptions.from_flags(FLAGS))
    except INPUT_ERRORS as error:
        exit_with_error(error, status=2)
    try:
        training.run()
    except UsageError as error:
        exit_with_error(error, status=2)
    except Interrupted:
        raise  # reported by `main`
    except TrainingError as error:
        exit_with_error(error, status=1)


def exit_with_error(error: Exception, status: int) -> None:
    """Prints `error` as the command's error message and exits with `status` (2: bad
    input; 1: a run that started but cannot go on, and resumes)."""
    exit_with(f"error: {error}", status)


def exit_with(message: str, status: int) -> None:
    """Prints `message` after the command's name, on stderr, and exits with `status`."""
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr)
    sys.exit(status)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with a malformed flag value reported like any bad input."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        exit_with_error(error, status=2)


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as the user reads it: its message, not the library line that raised it."""
    return f"{category.__name__}: {message}\n"


def show_in_help(flag_values: flags.FlagValues = FLAGS) -> None:
    """Makes `--help` list the run's own flags and this usage text.

    absl's `--help` shows the docstring of `__main__` and the key flags of the main
    module (named by `sys.argv[0]`): the console script's and train.py's both are ours.
    """
    main_module = sys.argv[0]
    for module in FLAG_MODULES:
        for flag in flag_values.get_key_flags_for_module(module.__name__):
            flag_values.register_key_flag_for_module(main_module, flag)
    sys.modules["__main__"].__doc__ = __doc__


def run() -> None:
    """The command line's entry point (`tf-diffaug-train`, `python train.py`)."""
    warnings.formatwarning = one_line_warning
    for signum in (signal.SIGINT, signal.SIGTERM):  # reported in one line, not a traceback
        signal.signal(signum, raise_on_signal)
    show_in_help()
    app.run(main, flags_parser=parse_flags)
