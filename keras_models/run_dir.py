"""A training run's directory: its config, checkpoints and outputs, and exact resume.

Layout of `run_dir`:

    config.json      the resolved configuration (compared on resume)
    checkpoints/     tf.train.CheckpointManager files (last K, plus best/ by a metric)
    logs/            TensorBoard scalars and images
    samples/         PNG sample grids from fixed latents
    metrics.jsonl    one JSON line per evaluation, with its protocol
    export/          the EMA generator as a SavedModel (after training)
    report.md        a short summary written at the end

Checkpoints are written by TensorFlow's own atomic protocol (data to temporary files,
renamed into place, then the `checkpoint` index is replaced atomically), so a process
killed mid-save leaves the previous checkpoint as the latest. A checkpoint that cannot
be read is skipped, with a warning, in favour of the one before it.
"""

import json
import os
import shutil
import warnings

from keras_models.config import FIELDS, RESUMABLE_FIELDS

# The config fields that may change between a run and its resumption (schedules, outputs,
# speed); every other field must match, or the checkpoint would not fit the model or data.
RESUMABLE_KEYS = RESUMABLE_FIELDS


class RunDirError(ValueError):
    """The run directory cannot be used as asked (exists, unwritable, incompatible)."""


class RunDirectory:
    """Paths and config of one run.

    Args:
        path: the run directory.
    """

    def __init__(self, path):
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

    def saved_config(self):
        if not os.path.exists(self.config_path):
            return None
        with open(self.config_path) as f:
            return json.load(f)

    def prepare(self, config, *, resume, overwrite):
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
                incompatible, or it is not writable.
        """
        saved = self.saved_config()
        resuming = False
        if saved is None and os.path.isdir(self.path) and os.listdir(self.path):
            # Only ever delete what is recognisably a run directory.
            raise RunDirError(
                f"The folder {self.path!r} is not empty and holds no run (no config.json). "
                "train.py writes only into an empty folder or a run directory of its own, "
                "and --overwrite deletes only those. Choose another --run_dir."
            )
        if saved is not None:
            if overwrite:
                shutil.rmtree(self.path)
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
        self.write_config(config)
        return resuming

    @staticmethod
    def check_compatible(saved, config):
        """Raises `RunDirError` when a non-resumable field of `config` (a `TrainConfig`)
        differs from the `saved` config dict. A field the saved run predates counts as
        its default, so that adding a field keeps older runs resumable."""
        compared = {
            name: (saved.get(name, field.default), getattr(config, name))
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

    def write_config(self, config):
        temp = self.config_path + ".tmp"
        with open(temp, "w") as f:
            json.dump(config.to_dict(), f, indent=2, sort_keys=True)
        os.replace(temp, self.config_path)


def restore_latest(manager, checkpoint):
    """Restores the newest readable checkpoint of `manager`; returns its path or None."""
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
