"""How a run fails: bad input (exit status 2) vs a training failure (exit status 1)."""


class UsageError(ValueError):
    """Bad input, found before any training starts (the CLI exits with status 2).

    Invalid values, an unknown preset or dataset, no images, missing weights, or an
    unwritable, busy or incompatible run directory. Nothing was trained or written to a
    run directory; the message says what to fix.
    """


class TrainingError(RuntimeError):
    """A run that started but cannot go on (the CLI exits with status 1).

    It diverged, or could not write its outputs; its run directory resumes from the last
    good checkpoint once the cause is fixed, as the message says.
    """


# What bad input raises below the CLI (`keras_models.config.ConfigError`,
# `keras_models.run_dir.RunDirError`, the data loaders' errors, ...), before training.
INPUT_ERRORS = (ValueError, FileNotFoundError)
