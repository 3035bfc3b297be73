"""GAN sampling and export: standing statistics of the EMA generator, the SavedModel,
and the README's example."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf

from tests.helpers.readme import readme_blocks
from tests.helpers.toy_gan import (
    LATENT_DIM,
    NUM_CLASSES,
    SIZE,
    compile_gan,
    dataset,
    make_gan,
    make_generator,
    real_batch,
)


def test_the_ema_generator_samples_with_standing_statistics(tmp_path):
    gan = compile_gan(make_gan(generator=make_generator(batch_norm=True), ema_decay=0.9))
    # EMA weights that differ from G's, as after training: G's moving statistics (here
    # the initial 0 / 1) do not describe the EMA generator's activations.
    pairs = zip(gan.ema_generator.weights, gan.generator.weights, strict=True)
    averages = [average for average, weight in pairs if weight.trainable]
    assert averages
    for average in averages:
        average.assign(average * 1.2 + 0.05)
    latents = np.random.default_rng(0).normal(size=(64, LATENT_DIM)).astype("float32")
    # The reference's sampling: a trainable copy of the EMA generator in train mode.
    reference = keras.models.clone_model(gan.ema_generator)
    reference.set_weights(gan.ema_generator.get_weights())
    for layer in reference.layers:  # (a frozen BatchNormalization uses moving statistics)
        layer.trainable = True
    in_batch = reference(latents, training=True).numpy()
    assert not np.allclose(in_batch, gan.ema_generator(latents, training=False).numpy())
    alone = np.concatenate([gan.generate(latents[i : i + 1]).numpy() for i in range(64)])
    np.testing.assert_allclose(alone.mean(), in_batch.mean(), atol=0.03)
    np.testing.assert_allclose(alone.std(), in_batch.std(), rtol=0.05)
    seeds = [np.array(s.state) for s in (gan.seed_generator, gan.sample_seed_generator)]
    np.testing.assert_array_equal(gan.generate(latents).numpy(), gan.generate(latents).numpy())
    gan.update_standing_statistics()  # repeatable, and moves no random stream
    np.testing.assert_allclose(gan.generate(latents).numpy(), alone, rtol=1e-5, atol=1e-5)
    for seed, before in zip((gan.seed_generator, gan.sample_seed_generator), seeds, strict=True):
        np.testing.assert_array_equal(np.array(seed.state), before)
    gan.export_generator(str(tmp_path / "export"))
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    np.testing.assert_allclose(
        serve(latents=tf.constant(latents))["images"].numpy(), alone, rtol=1e-5, atol=1e-5
    )


def test_export_loads_in_a_fresh_process_without_the_project(tmp_path):
    gan = compile_gan(make_gan(NUM_CLASSES, ema_decay=0.5))
    gan.fit(dataset(real_batch(NUM_CLASSES)), epochs=1, steps_per_epoch=2, verbose=0)
    latents = np.random.default_rng(0).normal(size=(4, LATENT_DIM)).astype("float32")
    labels = np.array([0, 1, 2, 1], "int32")
    expected = gan.generate(latents, labels).numpy()
    # The EMA generator is what is exported, and it differs from the raw generator.
    assert not np.allclose(expected, gan.generate(latents, labels, use_ema=False).numpy())
    export_dir = str(tmp_path / "generator")
    gan.export_generator(export_dir)
    np.save(tmp_path / "latents.npy", latents)
    np.save(tmp_path / "labels.npy", labels)
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        serve = tf.saved_model.load({export_dir!r}).signatures["serving_default"]
        out = serve(latents=tf.constant(np.load({str(tmp_path / "latents.npy")!r})),
                    labels=tf.constant(np.load({str(tmp_path / "labels.npy")!r})))
        np.save({str(tmp_path / "images.npy")!r}, out["images"].numpy())
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=str(tmp_path), env=env)
    images = np.load(tmp_path / "images.npy")
    np.testing.assert_allclose(images, expected, rtol=1e-6, atol=1e-6)
    assert images.shape == (4, SIZE, SIZE, 3) and np.abs(images).max() <= 1.0


def test_readme_example(tmp_path, monkeypatch):
    """The README's complete GAN example (own G and D + GAN + DiffAugment + fit + export)."""
    example = next(b for b in readme_blocks() if "gan.export_generator(" in b)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)
    history, samples = namespace["history"].history, namespace["samples"].numpy()
    assert {"d_loss", "g_loss", "d_real_logits", "d_fake_logits", "d_real_accuracy"} <= set(history)
    assert samples.shape == (16, 32, 32, 3) and np.abs(samples).max() <= 1.0
    serve = tf.saved_model.load("generator_savedmodel").signatures["serving_default"]
    latents = np.random.default_rng(0).normal(size=(2, 64)).astype("float32")
    np.testing.assert_allclose(
        serve(latents=tf.constant(latents))["images"].numpy(),
        namespace["gan"].generate(latents).numpy(),
        rtol=1e-6,
        atol=1e-6,
    )
