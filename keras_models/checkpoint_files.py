"""A run's checkpoints found by their files, so that a damaged index loses nothing.

`tf.train.CheckpointManager` knows a directory's checkpoints only from its `checkpoint`
index file. When that file is damaged, missing, or written without timestamps (by hand
or by another tool), the manager sees none: a resumed run would start from step 0 and
write over, or rotate away, the intact checkpoints. Here a run's checkpoints are found
by their files (`ckpt-<step>.index`, as orbax finds its steps by their folders), the
newest readable one is restored, and the index is rewritten to match before the
manager that saves the run's next checkpoints is made.

```python
checkpoint = tf.train.Checkpoint(**gan.checkpoint_items())
restored = restore_latest(checkpoint, directory)  # None: no readable checkpoint
manager = checkpoint_manager(checkpoint, directory, max_to_keep=3, latest=restored)
```
"""

import contextlib
import logging
import os
import re
import warnings

import tensorflow as tf

# `tf.train.CheckpointManager`'s default prefix, numbered by the training step.
PREFIX = "ckpt"
_INDEX_FILE = re.compile(rf"{PREFIX}-(\d+)\.index")


def checkpoint_paths(directory: str) -> list[str]:
    """The checkpoints in `directory` by their files, in the order of their steps.

    Args:
        directory: a `tf.train.CheckpointManager` directory (it may not exist).

    Returns:
        Checkpoint paths (`<directory>/ckpt-<step>`), oldest first.
    """
    if not os.path.isdir(directory):
        return []
    steps = sorted(
        int(match[1]) for name in os.listdir(directory) if (match := _INDEX_FILE.fullmatch(name))
    )
    return [os.path.join(directory, f"{PREFIX}-{step}") for step in steps]


def checkpoint_step(path: str) -> int:
    """The training step of a checkpoint path `<directory>/ckpt-<step>`."""
    return int(path.rsplit("-", 1)[1])


def restore_latest(checkpoint: tf.train.Checkpoint, directory: str) -> str | None:
    """Restores the newest readable checkpoint in `directory` into `checkpoint`.

    Checkpoints are found by their files, whatever the index says; one that cannot be
    read is skipped, with a warning, in favour of the one before it.

    Args:
        checkpoint: the objects to restore.
        directory: the checkpoints' directory.

    Returns:
        The restored checkpoint's path, or None when none could be read.
    """
    for path in reversed(checkpoint_paths(directory)):
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


def checkpoint_manager(
    checkpoint: tf.train.Checkpoint,
    directory: str,
    max_to_keep: int,
    latest: str | None = None,
) -> tf.train.CheckpointManager:
    """A `tf.train.CheckpointManager` of `directory` that knows its checkpoints up to
    `latest`, found by their files.

    When the index does not list exactly those checkpoints (it is damaged, missing,
    without timestamps, or lists files that are gone) it is rewritten first, with a
    warning. Checkpoints after `latest` (ones that could not be restored) stay out of the
    index: the manager never deletes them, and the run writes over each when it reaches
    its step again.

    Args:
        checkpoint: the objects the manager saves.
        directory: the checkpoints' directory.
        max_to_keep: checkpoints kept; older ones are deleted as newer ones are saved.
        latest: the checkpoint the run resumed from (`restore_latest`), or None for a run
            that starts from step 0.

    Returns:
        The manager.
    """
    paths = checkpoint_paths(directory)
    paths = paths[: paths.index(latest) + 1] if latest in paths else []
    state = _read_index(directory)
    listed = [os.path.abspath(p) for p in state.all_model_checkpoint_paths] if state else []
    stamped = state is not None and len(state.all_model_checkpoint_timestamps) == len(listed)
    if listed != [os.path.abspath(p) for p in paths] or (paths and not stamped):
        if paths:
            names = ", ".join(os.path.basename(p) for p in paths)
            warnings.warn(
                f"The checkpoint index {os.path.join(directory, 'checkpoint')} did not list "
                f"the run's checkpoints; rewrote it from their files ({names}).",
                stacklevel=2,
            )
        _write_index(directory, paths)
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep)


def _read_index(directory):
    """The index's `CheckpointState`, or None when it is missing or unreadable (this
    module says so itself, so TensorFlow's own warning is held back)."""
    with _quiet_tensorflow_logger():
        return tf.train.get_checkpoint_state(directory)


def _write_index(directory, paths):
    index = os.path.join(directory, "checkpoint")
    if not paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(index)
        return
    # The files' times order the checkpoints for the manager's rotation, as the save
    # times in an index it wrote itself would.
    times = [os.path.getmtime(p + ".index") for p in paths]
    with _quiet_tensorflow_logger():  # a deprecation notice meant for TF1 training loops
        tf.compat.v1.train.update_checkpoint_state(
            directory,
            paths[-1],
            all_model_checkpoint_paths=paths,
            all_model_checkpoint_timestamps=times,
            last_preserved_timestamp=min(times) - 1.0,
        )


@contextlib.contextmanager
def _quiet_tensorflow_logger():
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
