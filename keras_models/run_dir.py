"""A training run's directory: its config, checkpoints and outputs, and exact resume.

Layout of `run_dir`:

    .tf-diffaug-run  the marker: this folder holds a run of this project
    config.json      the resolved configuration (compared on resume)
    checkpoints/     tf.train.CheckpointManager files (last K, plus best/ by a metric)
    logs/            TensorBoard scalars and images
    samples/         PNG sample grids from fixed latents
    metrics.jsonl    one JSON line per evaluation, with its protocol
    export/          the EMA generator as a SavedModel (after training)
    report.md        a short summary written at the end (and report.json)
    train.lock       "pid host" of the process training in it (while it runs)

A folder is a run directory only when it holds the marker, which a run writes first:
`--overwrite` deletes only a run directory's `RUN_OUTPUTS`, never a file of the user's.

Checkpoints are written by TensorFlow's own atomic protocol (data to temporary files,
renamed into place, then the `checkpoint` index is replaced atomically), so a process
killed mid-save leaves the previous checkpoint as the latest. They are found by their
files (`keras_models.checkpoint_files`), and one that cannot be read is skipped, with a
warning, in favour of the one before it. The temporary folders of a save that was
killed are removed when the run starts again, and so are the `metrics.jsonl` rows of
steps after the checkpoint it resumes from (they are measured again).

Only one process trains in a run directory at a time: `prepare` takes `train.lock`
with an OS lock (`fcntl.flock`), which dies with its process, and `unlock` releases it.
"""

import contextlib
import fcntl
import glob
import json
import os
import shutil
import socket
import warnings
from typing import Any

from keras_models.checkpoint_files import checkpoint_paths, checkpoint_step
from keras_models.config import FIELDS, RESUMABLE_FIELDS, TrainConfig

MARKER = ".tf-diffaug-run"
# What a run writes into its directory (names and glob patterns): all `--overwrite`
# deletes. A test keeps it in step with a real run's outputs.
RUN_OUTPUTS = (
    "config.json",
    "config.json.tmp",
    "metrics.jsonl",
    "metrics.jsonl.tmp",
    "report.md",
    "report.json",
    "augmentations.png",
    "nearest.png",
    "nearest.png.json",
    "nearest_export.png",
    "evaluation.json",
    "reference_statistics_*.npz",
    "checkpoints",
    "logs",
    "samples",
    "export",
)


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
        self.lock_path, self.marker_path = join("train.lock"), join(MARKER)
        self._lock_file = None

    def holds_run(self) -> bool:
        """Whether the directory holds a run of this project (its marker)."""
        return os.path.isfile(self.marker_path)

    def saved_config(self) -> dict[str, Any] | None:
        """The saved `config.json` as a dict, or None when the directory holds no run.

        Raises:
            RunDirError: config.json is not a JSON object (damaged or edited).
        """
        if not self.holds_run() or not os.path.exists(self.config_path):
            return None
        try:
            with open(self.config_path, encoding="utf-8") as f:
                saved = json.load(f)
        except (ValueError, OSError) as error:
            saved = error
        if not isinstance(saved, dict):
            received = (
                f"{type(saved).__name__}: {saved}"
                if isinstance(saved, Exception)
                else f"a JSON {type(saved).__name__}"
            )
            raise RunDirError(
                f"Expected {self.config_path!r} to hold the run's configuration, a JSON "
                f"object written by train.py. Received: {received}. Restore it, or pass "
                "--overwrite (deletes the run) or choose another --run_dir."
            )
        return saved

    def prepare(self, config: TrainConfig, *, resume: bool, overwrite: bool) -> bool:
        """Creates (or checks, to resume) the directory before any training starts.

        Nothing in the directory changes before every check has passed.

        Args:
            config: the run's `keras_models.config.TrainConfig`, written to config.json.
            resume: continue the run the directory holds (its config must be compatible,
                and it must not have trained past `config.total_steps`).
            overwrite: delete the run the directory holds first (only its `RUN_OUTPUTS`;
                a non-empty folder without the run marker is never touched).

        Returns:
            True when an existing run is resumed.

        Raises:
            RunDirError: the path is a file; the directory holds a run and neither
                `resume` nor `overwrite` is set; it is a non-empty folder that holds no
                run; the saved config is damaged or incompatible, or the run is longer
                than asked; it is not writable; or another process trains in it.
        """
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise RunDirError(
                f"Expected --run_dir to be a folder (created if missing). Received: "
                f"{self.path!r}, a file. Choose another --run_dir."
            )
        if not self.holds_run() and os.path.isdir(self.path) and self._entries():
            raise RunDirError(
                f"The folder {self.path!r} is not empty and holds no run (no {MARKER} "
                "marker). train.py writes only into an empty folder or a run directory of "
                "its own, and --overwrite deletes only those. Choose another --run_dir."
            )
        self.lock()
        try:
            return self._prepare_locked(config, resume=resume, overwrite=overwrite)
        except BaseException:
            self.unlock()
            raise

    def _entries(self):
        return [e for e in os.scandir(self.path) if e.path != self.lock_path]

    def _prepare_locked(self, config, *, resume, overwrite):
        resuming = False
        if self.holds_run():
            if overwrite:
                self._delete_outputs()
            elif not resume:
                raise RunDirError(
                    f"The run directory {self.path!r} holds a run. Pass --resume to continue "
                    "it, --overwrite to delete it, or choose another --run_dir."
                )
            elif (saved := self.saved_config()) is not None:  # None: killed as it began
                self.check_compatible(saved, config)
                self._check_length(config)
                resuming = True
        try:
            with open(self.marker_path, "w", encoding="utf-8") as f:
                f.write("A training run of tf-diffaug (train.py --overwrite may delete it).\n")
            for folder in (self.checkpoints, self.logs, self.samples):
                os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise RunDirError(
                f"The run directory {self.path!r} is not writable ({error.strerror}). "
                "Choose another --run_dir."
            ) from error
        for leftover in glob.glob(os.path.join(glob.escape(self.checkpoints), "ckpt-*_temp*")):
            shutil.rmtree(leftover) if os.path.isdir(leftover) else os.remove(leftover)
        self.write_config(config)
        return resuming

    def _delete_outputs(self):
        """Deletes what a run wrote (`RUN_OUTPUTS`), and nothing else."""
        for pattern in RUN_OUTPUTS:
            for path in glob.glob(os.path.join(glob.escape(self.path), pattern)):
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)

    def _check_length(self, config):
        trained = checkpoint_paths(self.checkpoints)
        step = checkpoint_step(trained[-1]) if trained else 0
        if step > config.total_steps:
            raise RunDirError(
                f"Cannot resume: the run in {self.path!r} has trained {step} steps, more "
                f"than the {config.total_steps} asked for. Pass --steps={step} or more to "
                "continue it, or --overwrite / another --run_dir to start afresh."
            )

    def lock(self) -> None:
        """Takes `train.lock` for this process, creating the directory if need be.

        The lock is an OS lock on the file (`fcntl.flock`): it is released when the
        process ends, however it ends, so a lock left by a killed process is taken over
        (with a warning naming it), and two processes can never both hold it.

        Raises:
            RunDirError: another process holds the lock, or the directory is not writable.
        """
        if self._lock_file is not None:  # this object holds it already
            return
        try:
            os.makedirs(self.path, exist_ok=True)
            lock_file = self._locked_file()
        except OSError as error:
            raise RunDirError(
                f"The run directory {self.path!r} is not writable ({error.strerror}). "
                "Choose another --run_dir."
            ) from error
        owner = f"{os.getpid()} {socket.gethostname()}"
        lock_file.seek(0)
        previous = lock_file.read().strip()
        if previous and previous != owner:
            pid, _, host = previous.partition(" ")
            host = host or "an unknown host"
            warnings.warn(
                f"Taking over the lock {self.lock_path} of process {pid} on {host}, which no "
                "longer holds it (it was killed).",
                stacklevel=2,
            )
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(owner)
        lock_file.flush()
        self._lock_file = lock_file

    def _locked_file(self):
        """`train.lock`, opened and locked by this process."""
        while True:
            lock_file = open(self.lock_path, "a+", encoding="utf-8")  # noqa: SIM115
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock_file.seek(0)
                pid, _, host = lock_file.read().strip().partition(" ")
                lock_file.close()
                raise RunDirError(
                    f"The run directory {self.path!r} is in use by process {pid or '?'} on "
                    f"{host or 'an unknown host'}: one run directory, one training process. "
                    "Wait for it to end or choose another --run_dir."
                ) from None
            # Its holder may have released and removed the file between our open and
            # lock: only the file at the path counts.
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.lock_path).st_ino == os.fstat(lock_file.fileno()).st_ino:
                    return lock_file
            lock_file.close()

    def unlock(self) -> None:
        """Releases `train.lock` if this object holds it (and removes the file)."""
        if self._lock_file is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.lock_path)  # before unlocking: a waiting process then retries
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()
        self._lock_file = None

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


# Values that older runs saved and that now have a name: a run saved with
# mixed_precision None trained in float32.
_RENAMED_VALUES = {"mixed_precision": {None: "float32"}}


def _saved_value(saved, name, default):
    value = saved.get(name, default)
    return _RENAMED_VALUES[name].get(value, value) if name in _RENAMED_VALUES else value
