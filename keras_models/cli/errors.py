"""How a run fails: bad input (exit status 2), a training failure (exit status 1), or a
signal that stopped it (exit status 128 + the signal's number)."""

import signal


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


class Interrupted(TrainingError):
    """The run was stopped by a signal: SIGINT (Ctrl-C) or SIGTERM (preemption).

    The CLI exits with status 128 + the signal's number (130 for SIGINT, 143 for
    SIGTERM), as a shell reports a process the signal ended. A run stopped between steps
    saved a checkpoint of its last step first; one stopped at once (a second signal)
    keeps everything up to its last checkpoint. Either resumes with the same command.

    Args:
        message: where the run stopped and how to resume.
        signum: the signal's number.
    """

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signal = signal.Signals(signum)

    @property
    def status(self) -> int:
        """The exit status that reports the signal."""
        return 128 + int(self.signal)


class SignalReceived(BaseException):
    """SIGINT or SIGTERM, raised where it arrives (outside the steps `StopOnSignal` stops
    between).

    A `BaseException`, as `KeyboardInterrupt` is, so that no `except Exception` on the
    way swallows it. The CLI raises it for both signals (`raise_on_signal`) and reports
    it as an `Interrupted`.

    Args:
        signum: the signal's number.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signal = signal.Signals(signum)


def raise_on_signal(signum: int, frame: object) -> None:
    """A signal handler raising `SignalReceived` (install with `signal.signal`)."""
    raise SignalReceived(signum)
