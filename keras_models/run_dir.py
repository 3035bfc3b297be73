"""A training run's directory: its config, checkpoints and outputs, and exact resume.

Layout of `run_dir`:

    config.json      the resolved configuration (compared on resume)
    checkpoints/     tf.train.CheckpointManager files (last K, plus best/ by a metric)
    logs/            TensorBoard scalars and images
    samples/         PNG sample grids from fixed latents
    metrics.jsonl    one JSON line per evaluation, with its protocol
    export/          the EMA generator as a SavedModel (after training)
    report.md        a short summary written at the end
    train.lock       "pid host" of the process training in it (while it runs)

Checkpoints are written by TensorFlow's own atomic protocol (data to temporary files,
renamed into place, then the `checkpoint` index is replaced atomically), so a process
killed mid-save leaves the previous checkpoint as the latest. A checkpoint that cannot
be read is skipped, with a warning, in favour of the one before it. The temporary
folders of a save that was killed are removed when the run starts again, and so are the
`metrics.jsonl` rows of steps after the checkpoint it resumes from (they are measured
again).

Only one process trains in a run directory at a time: `prepare` takes `train.lock`
(created exclusively) and `unlock` releases it. A lock left by a process that no longer
runs (killed) is taken over, with a warning.
"""

import glob
import json
import os
import shutil
import socket
import warnings
from typing import TYPE_CHECKING, Any

from keras_models.config import FIELDS, RESUMABLE_FIELDS, TrainConfig

if TYPE_CHECKING:
    import tensorflow as tf


class RunDirError(ValueError):
    """The run directory cannot be used as asked (exists, unwritable, incompatible)."""


class RunDirectory:
    """Paths and config of one run.

    Args:
        path: the run directory.
    """

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        join = lambda name: os.path.join(self.path, name)
        self.checkpoints, self.logs, self.samples, self.export = (
            join("checkpoints"),
            join("logs"),
            join("samples"),
            join("export"),
        )
        self.config_path, self.metrics_path, self.report_path = (
            join("config.json"),
            join("metrics.jsonl"),
            join("report.md"),
        )
        self.lock_path = join("train.lock")

    def saved_config(self) -> dict[str, Any] | None:
        """The saved `config.json` as a dict, or None when the directory holds no run."""
        if not os.path.exists(self.config_path):
            return None
        with open(self.config_path) as f:
            return json.load(f)

    def prepare(self, config: TrainConfig, *, resume: bool, overwrite: bool) -> bool:
        """Creates (or checks, to resume) the directory before any training starts.

        Args:
            config: the run's `keras_models.config.TrainConfig`, written to config.json.
            resume: continue the run the directory holds (its config must be compatible).
            overwrite: delete the run the directory holds first (a non-empty folder
                without a config.json is never deleted).

        Returns:
            True when an existing run is resumed.

        Raises:
            RunDirError: the directory holds a run and neither `resume` nor `overwrite` is
                set, or it is a non-empty folder that holds no run, or the saved config is
                incompatible, or it is not writable, or another process trains in it.
        """
        saved = self.saved_config()
        resuming = False
        if saved is None and os.path.isdir(self.path) and self._entries():
            # Only ever delete what is recognisably a run directory.
            raise RunDirError(
                f"The folder {self.path!r} is not empty and holds no run (no config.json). "
                "train.py writes only into an empty folder or a run directory of its own, "
                "and --overwrite deletes only those. Choose another --run_dir."
            )
        self.lock()
        try:
            resuming = self._prepare_locked(saved, config, resume=resume, overwrite=overwrite)
        except BaseException:
            self.unlock()
            raise
        return resuming

    def _entries(self):
        return [e for e in os.scandir(self.path) if e.path != self.lock_path]

    def _prepare_locked(self, saved, config, *, resume, overwrite):
        resuming = False
        if saved is not None:
            if overwrite:
                for entry in self._entries():  # everything but the lock just taken
                    shutil.rmtree(entry.path) if entry.is_dir() else os.remove(entry.path)
            elif resume:
                self.check_compatible(saved, config)
                resuming = True
            else:
                raise RunDirError(
                    f"The run directory {self.path!r} holds a run. Pass --resume to continue "
                    "it, --overwrite to delete it, or choose another --run_dir."
                )
        try:
            for folder in (self.checkpoints, self.logs, self.samples):
                os.makedirs(folder, exist_ok=True)
            probe = os.path.join(self.path, ".write_test")
            with open(probe, "w") as f:
                f.write("ok")
            os.remove(probe)
        except OSError as error:
            raise RunDirError(
                f"The run directory {self.path!r} is not writable ({error.strerror}). "
                "Choose another --run_dir."
            ) from error
        for leftover in glob.glob(os.path.join(glob.escape(self.checkpoints), "ckpt-*_temp*")):
            shutil.rmtree(leftover) if os.path.isdir(leftover) else os.remove(leftover)
        self.write_config(config)
        return resuming

    def lock(self) -> None:
        """Takes `train.lock` for this process, creating the directory if need be.

        Raises:
            RunDirError: another running process holds the lock (or one on another
                host, which cannot be checked), or the directory is not writable.
        """
        owner = f"{os.getpid()} {socket.gethostname()}"
        try:
            os.makedirs(self.path, exist_ok=True)
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            holder = self._lock_holder()
            if holder == owner:  # this process took it already
                return
            pid, _, host = holder.partition(" ")
            if host == socket.gethostname() and pid.isdigit() and not _running(int(pid)):
                warnings.warn(
                    f"Taking over the lock {self.lock_path} of process {pid}, which is no "
                    "longer running (it was killed).",
                    stacklevel=2,
                )
                os.remove(self.lock_path)
                return self.lock()
            raise RunDirError(
                f"The run directory {self.path!r} is in use by process {pid} on "
                f"{host or 'an unknown host'}: one run directory, one training process. Wait "
                f"for it to end or choose another --run_dir (if that process no longer runs, "
                f"delete {self.lock_path})."
            ) from None
        except OSError as error:
            raise RunDirError(
                f"The run directory {self.path!r} is not writable ({error.strerror}). "
                "Choose another --run_dir."
            ) from error
        with os.fdopen(fd, "w") as f:
            f.write(owner)

    def _lock_holder(self):
        try:
            with open(self.lock_path) as f:
                return f.read().strip()
        except FileNotFoundError:  # released meanwhile
            return ""

    def unlock(self) -> None:
        """Releases `train.lock` if this process holds it."""
        if self._lock_holder() == f"{os.getpid()} {socket.gethostname()}":
            os.remove(self.lock_path)

    def drop_metrics_after(self, step: int) -> None:
        """Removes the `metrics.jsonl` rows of steps after `step` (the checkpoint a run
        resumes from), which the resumed run measures again."""
        if not os.path.exists(self.metrics_path):
            return
        with open(self.metrics_path, encoding="utf-8") as f:
            rows = f.readlines()
        kept = [row for row in rows if _row_step(row) <= step]
        if len(kept) < len(rows):
            temp = self.metrics_path + ".tmp"
            with open(temp, "w", encoding="utf-8") as f:
                f.writelines(kept)
            os.replace(temp, self.metrics_path)

    @staticmethod
    def check_compatible(saved: dict[str, Any], config: TrainConfig) -> None:
        """Checks that a run saved with `saved` may resume as `config`.

        A field the saved run predates counts as its default, so that adding a field
        keeps older runs resumable.

        Args:
            saved: the saved run's config dict (`config.json`).
            config: the resuming run's config.

        Raises:
            RunDirError: a non-resumable field of `config` differs from `saved`.
        """
        compared = {
            name: (_saved_value(saved, name, field.default), getattr(config, name))
            for name, field in FIELDS.items()
            if name not in RESUMABLE_FIELDS
        }
        changed = {name: (a, b) for name, (a, b) in compared.items() if a != b}
        if changed:
            described = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise RunDirError(
                f"Cannot resume: the configuration differs from the saved run ({described}). "
                "Use the original flags, or --overwrite / another --run_dir to start afresh."
            )

    def write_config(self, config: TrainConfig) -> None:
        """Writes `config` to `config.json` atomically."""
        temp = self.config_path + ".tmp"
        with open(temp, "w") as f:
            json.dump(config.to_dict(), f, indent=2, sort_keys=True)
        os.replace(temp, self.config_path)


def _row_step(row):
    """The step of a `metrics.jsonl` row; infinite for a torn row (a killed write)."""
    try:
        return json.loads(row)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")


def _running(pid):
    """Whether a process `pid` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


def restore_latest(
    manager: "tf.train.CheckpointManager", checkpoint: "tf.train.Checkpoint"
) -> str | None:
    """Restores the newest readable checkpoint of `manager` into `checkpoint`.

    A checkpoint that cannot be read is skipped, with a warning.

    Returns:
        The restored checkpoint's path, or None when none could be read.
    """
    for path in reversed(manager.checkpoints):
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        # A damaged file surfaces as OpError, ValueError, IndexError (short read) or an
        # assertion on unmatched objects, depending on where it is damaged.
        except Exception as error:  # noqa: BLE001
            warnings.warn(
                f"Checkpoint {path} could not be restored ({type(error).__name__}: "
                f"{str(error).splitlines()[0]}); falling back to the previous one.",
                stacklevel=2,
            )
    return None


# Values that older runs saved and that now have a name: a run saved with
# mixed_precision None trained in float32.
_RENAMED_VALUES = {"mixed_precision": {None: "float32"}}


def _saved_value(saved, name, default):
    value = saved.get(name, default)
    return _RENAMED_VALUES[name].get(value, value) if name in _RENAMED_VALUES else value
