"""Tests of keras_models.progress: the text it prints, under a fake clock."""

import io
import re
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models.progress import TrainingProgress, format_duration
from tests.helpers.toy_gan import compile_gan, dataset, make_gan, real_batch

BUILD_LINE = "Building the train step (tracing, XLA compile if enabled)..."
LOGS = {
    "d_loss": np.float32(1.25),
    "g_loss": tf.constant([0.5]),  # (1,): a multi-worker GAN's logs
    "d_real_logits": np.zeros(3),  # not a scalar: not shown
}


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run(callback, epochs, steps_per_epoch, initial_epoch=0, train_steps=0, stop_at=None):
    """Calls `callback` as `fit` does; the build step takes 10 s, then 1 s per step.

    Returns the stream's text after on_train_begin (None), after every step (by step)
    and at the end ("end").
    """
    clock = callback.clock
    callback.set_model(types.SimpleNamespace(train_steps=keras.Variable(train_steps, "int64")))
    callback.set_params({"epochs": epochs, "steps": steps_per_epoch, "verbose": 0})
    callback.on_train_begin()
    if callback.progbar is not None:
        callback.progbar.interval = 0  # draw every update, however fast the test runs
    texts = {None: callback.stream.getvalue()}
    for epoch in range(initial_epoch, epochs):
        callback.on_epoch_begin(epoch)
        for batch in range(steps_per_epoch):
            clock.now += 10.0 if clock.now == 0 else 1.0
            callback.on_train_batch_end(batch, dict(LOGS))
            texts[callback.step] = callback.stream.getvalue()
            if callback.step == stop_at:
                break
        callback.on_epoch_end(epoch, {})
        if callback.step == stop_at:
            break
    callback.on_train_end()
    texts["end"] = callback.stream.getvalue()
    return texts


def progress(**kwargs):
    kwargs.setdefault("images_per_step", 200)
    kwargs.setdefault("interactive", False)
    return TrainingProgress(stream=io.StringIO(), clock=FakeClock(), **kwargs)


def lines_by_step(text):
    return {int(m.group(1)): m.group(0) for m in re.finditer(r"^step (\d+)/.*$", text, re.M)}


def test_format_duration():
    assert format_duration(3720.9) == "1h02m"
    assert format_duration(79) == "1m19s"
    assert format_duration(60) == "1m00s"
    assert format_duration(37.9) == "37s"


def test_build_line_comes_before_the_first_step_and_its_time_after_it():
    callback = progress(every_n_steps=1000)
    texts = run(callback, epochs=1, steps_per_epoch=3)
    assert texts[None] == BUILD_LINE + "\n"
    assert texts[1] == BUILD_LINE + "\nTrain step built in 10.0 s; first step done.\n"
    assert texts[2] == texts[1]  # nothing until the epoch ends


def test_plain_lines_every_n_steps_and_at_every_epoch_end_with_a_post_build_eta():
    callback = progress(every_n_steps=7)
    texts = run(callback, epochs=4, steps_per_epoch=25)
    lines = lines_by_step(texts["end"])
    assert sorted(lines) == [7, 14, 21, 25, 28, 35, 42, 49, 50, 56, 63, 70, 75, 77, 84, 91, 98, 100]
    # 20 post-build steps in 20 s: 1 s per step, 79 steps to go.
    assert lines[21] == (
        "step 21/100 (21.0%)  kimg 4.2/20.0  200.0 img/s  d_loss 1.25 g_loss 0.5  ETA 1m19s"
    )
    assert lines[100].endswith("ETA 0s")
    assert lines_by_step(texts[21]).keys() == {7, 14, 21}  # printed as the step ends


def test_a_resumed_run_counts_from_its_start_step_out_of_the_whole_run():
    callback = progress(every_n_steps=10)
    texts = run(callback, epochs=4, steps_per_epoch=25, initial_epoch=2, train_steps=50)
    lines = lines_by_step(texts["end"])
    assert sorted(lines) == [60, 70, 75, 80, 90, 100]
    # Step 51 is the build step; steps 52-60 took 9 s.
    assert lines[60] == (
        "step 60/100 (60.0%)  kimg 12.0/20.0  200.0 img/s  d_loss 1.25 g_loss 0.5  ETA 40s"
    )


def test_initial_step_total_steps_and_metrics_override_the_defaults():
    callback = progress(every_n_steps=5, initial_step=30, total_steps=80, metrics=["g_loss", "x"])
    texts = run(callback, epochs=1, steps_per_epoch=10, train_steps=50)
    assert lines_by_step(texts[40])[40] == (
        "step 40/80 (50.0%)  kimg 8.0/16.0  200.0 img/s  g_loss 0.5  ETA 40s"
    )


def test_interactive_mode_draws_a_progbar_over_the_whole_run():
    callback = progress(interactive=True)
    texts = run(callback, epochs=4, steps_per_epoch=25, initial_epoch=1, train_steps=25)
    assert isinstance(callback.progbar, keras.utils.Progbar)
    assert callback.progbar.target == 100
    assert texts[26] == BUILD_LINE + "\nTrain step built in 10.0 s; first step done.\n"
    # 20 post-build steps: 1 s per step, 54 to go (Progbar's bold and colours left out)
    bar = re.sub(r"\x1b\[[0-9;]*m", "", texts[46][len(texts[45]) :])
    assert re.search(r"46/100\b.* 54s\b.* 1s/step", bar), bar
    assert "img/s: 200.0000" in bar and "kimg of 20: 9.2000" in bar
    assert "d_loss: 1.2500 - g_loss: 0.5000" in bar and "d_real_logits" not in bar
    assert not lines_by_step(texts["end"]) and texts["end"].endswith("\n")


def test_an_interrupted_bar_still_ends_its_line():
    callback = progress(interactive=True)
    run(callback, epochs=2, steps_per_epoch=25, stop_at=30)
    text = callback.stream.getvalue()
    assert text.endswith("\n") and "30/50" in text.splitlines()[-1]


def test_interactive_defaults_to_whether_the_stream_is_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert TrainingProgress(1, stream=Terminal()).interactive
    assert not TrainingProgress(1, stream=io.StringIO()).interactive


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="Expected images_per_step >= 1. Received: 0"):
        TrainingProgress(0)
    with pytest.raises(ValueError, match="Expected every_n_steps >= 1. Received: 0"):
        TrainingProgress(8, every_n_steps=0)
    with pytest.raises(ValueError, match="initial_step=120, total_steps=100"):
        run(progress(initial_step=120), epochs=4, steps_per_epoch=25)


def test_gan_fit_prints_the_build_then_every_step():
    gan = compile_gan(make_gan(d_steps_per_g_step=2))
    stream = io.StringIO()
    callback = TrainingProgress(16, every_n_steps=1, metrics=["g_loss", "d_loss"], stream=stream)
    data = dataset(real_batch(batch=16), batch=16)
    gan.fit(data, epochs=2, steps_per_epoch=2, verbose=0, callbacks=[callback], shuffle=False)
    lines = stream.getvalue().splitlines()
    assert lines[0] == BUILD_LINE
    assert re.fullmatch(r"Train step built in \d+\.\d s; first step done\.", lines[1])
    assert [line.split("  ")[:2] for line in lines[2:]] == [
        [f"step {s}/4 ({25 * s:.1f}%)", f"kimg {0.016 * s:.1f}/0.1"] for s in (2, 3, 4)
    ]
    assert all(re.search(r" img/s  g_loss \S+ d_loss \S+  ETA \d+s$", line) for line in lines[2:])
