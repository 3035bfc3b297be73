"""Checkpoints found by their files: a damaged, missing or hand-written index loses no
checkpoint, and the manager deletes only the checkpoints newer saves supersede."""

import os

import pytest
import tensorflow as tf

from keras_models.checkpoint_files import checkpoint_manager, checkpoint_paths, restore_latest


def saved_run(directory, steps=(20, 30, 40)):
    """A directory with a checkpoint per step of `steps`, each holding its step."""
    value = tf.Variable(0)
    checkpoint = tf.train.Checkpoint(value=value)
    manager = tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=3)
    for step in steps:
        value.assign(step)
        manager.save(checkpoint_number=step)
    return value, checkpoint


def names(paths):
    return [os.path.basename(p) for p in paths]


@pytest.mark.parametrize(
    "index",
    [
        None,  # deleted
        "garbage {",  # damaged
        'model_checkpoint_path: "ckpt-40"\n',  # written by hand: one path, no timestamps
        'model_checkpoint_path: "ckpt-40"\nall_model_checkpoint_paths: "ckpt-20"\n'
        'all_model_checkpoint_paths: "ckpt-30"\nall_model_checkpoint_paths: "ckpt-40"\n',
    ],
)
def test_a_bad_index_resumes_from_the_newest_file_and_rotates_only_superseded(tmp_path, index):
    value, checkpoint = saved_run(tmp_path)
    if index is None:
        os.remove(tmp_path / "checkpoint")
    else:
        (tmp_path / "checkpoint").write_text(index)
    value.assign(0)
    restored = restore_latest(checkpoint, str(tmp_path))
    assert names([restored]) == ["ckpt-40"] and int(value.numpy()) == 40
    with pytest.warns(UserWarning, match="rewrote it from their files .ckpt-20, ckpt-30, ckpt-40."):
        manager = checkpoint_manager(checkpoint, str(tmp_path), 3, latest=restored)
    assert names(manager.checkpoints) == ["ckpt-20", "ckpt-30", "ckpt-40"]
    value.assign(50)
    manager.save(checkpoint_number=50)  # supersedes the oldest, ckpt-20, only
    assert names(checkpoint_paths(str(tmp_path))) == ["ckpt-30", "ckpt-40", "ckpt-50"]


def test_a_sound_index_is_left_as_it_is(tmp_path, recwarn):
    _, checkpoint = saved_run(tmp_path)
    before = (tmp_path / "checkpoint").read_text()
    restored = restore_latest(checkpoint, str(tmp_path))
    checkpoint_manager(checkpoint, str(tmp_path), 3, latest=restored)
    assert (tmp_path / "checkpoint").read_text() == before and not recwarn.list


def test_a_damaged_newest_checkpoint_is_skipped_and_never_deleted(tmp_path):
    value, checkpoint = saved_run(tmp_path)
    data = next(tmp_path.glob("ckpt-40.data-*"))
    data.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="ckpt-40 could not be restored .* previous one"):
        restored = restore_latest(checkpoint, str(tmp_path))
    assert int(value.numpy()) == 30
    with pytest.warns(UserWarning, match=r"rewrote it from their files \(ckpt-20, ckpt-30\)"):
        manager = checkpoint_manager(checkpoint, str(tmp_path), 2, latest=restored)
    value.assign(35)
    manager.save(checkpoint_number=35)
    # ckpt-20 is superseded; the damaged ckpt-40 is the run's to write over, not to delete.
    assert names(checkpoint_paths(str(tmp_path))) == ["ckpt-30", "ckpt-35", "ckpt-40"]
    assert data.read_bytes() == b"garbage"


def test_a_run_that_starts_afresh_lists_no_checkpoint(tmp_path):
    _, checkpoint = saved_run(tmp_path, steps=())
    assert restore_latest(checkpoint, str(tmp_path)) is None
    assert checkpoint_manager(checkpoint, str(tmp_path), 3).checkpoints == []
