"""StyleGAN2 generator: mapping network, skip-architecture synthesis network, and the
`Generator` model (style mixing, tracked average w, truncation)."""

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from keras_models.backbone import GeneratorBackbone
from keras_models.conditioning import unpack
from keras_models.layers.equalized import EqualizedDense, bias_act
from keras_models.layers.modulated_conv import ModulatedConv2D
from keras_models.layers.noise import NoiseInjection
from keras_models.layers.resample import DEFAULT_FILTER, check_taps, upsample_2d
from keras_models.stylegan2.scaling import (
    _StyleGAN2Model,
    feature_maps,
    resolution_log2,
    scaling_width,
)

PIXEL_NORM_EPSILON = 1e-8


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class MappingNetwork(keras.layers.Layer):
    """z (and optional class label) -> w: pixel norm, then an MLP of equalized layers.

    A label is embedded to `latent_dim` features (equalized, `lrmul`) and concatenated to
    z before the pixel norm, as in the reference.

    Args:
        latent_dim: z features.
        w_dim: w features.
        num_layers: dense layers (8).
        units: hidden features (`w_dim` when None).
        lrmul: learning-rate multiplier of every layer (0.01).
        num_classes: None for unconditional.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        latent_dim: int,
        w_dim: int,
        num_layers: int = 8,
        units: int | None = None,
        lrmul: float = 0.01,
        num_classes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.latent_dim = int(latent_dim)
        self.w_dim = int(w_dim)
        self.num_layers = int(num_layers)
        self.units = int(units or w_dim)
        self.lrmul = float(lrmul)
        self.num_classes = num_classes
        self.dense = [
            EqualizedDense(
                self.w_dim if i == self.num_layers - 1 else self.units,
                lrmul=self.lrmul,
                activation="lrelu",
                name=f"fc{i}",
            )
            for i in range(self.num_layers)
        ]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        features = self.latent_dim
        if self.num_classes:
            # One-hot @ embedding == gather; initialised N(0, 1) at run time like the
            # reference's gain-sqrt(num_classes) equalized weight.
            self.embedding = self.add_weight(
                name="embedding",
                shape=(self.num_classes, self.latent_dim),
                initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lrmul),
            )
            features *= 2
        for layer in self.dense:
            layer.build((None, features))
            features = layer.units

    def call(self, z: tf.Tensor, labels: tf.Tensor | None = None) -> tf.Tensor:
        x = z
        if self.num_classes:
            embedded = tf.gather(self.embedding, tf.cast(labels, "int32")) * self.lrmul
            x = tf.concat([x, tf.cast(embedded, x.dtype)], axis=-1)
        x = x * tf.math.rsqrt(
            tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + PIXEL_NORM_EPSILON
        )
        for layer in self.dense:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.w_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "w_dim": self.w_dim,
            "num_layers": self.num_layers,
            "units": self.units,
            "lrmul": self.lrmul,
            "num_classes": self.num_classes,
        }


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class SynthesisLayer(keras.layers.Layer):
    """Modulated 3x3 conv -> per-pixel noise -> bias -> leaky ReLU (one style input).

    Called as `layer([x, w], training=...)`.

    Args:
        filters: output channels.
        up: up-sample 2x first.
        taps: FIR taps for the up-sampling.
        seed: noise seed (int or None).
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        filters: int,
        up: bool = False,
        taps: Sequence[float] = DEFAULT_FILTER,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.up = up
        self.taps = check_taps(taps)
        self.seed = seed
        self.conv = ModulatedConv2D(self.filters, 3, up=up, taps=self.taps, name="conv")
        self.noise = NoiseInjection(seed=seed, name="noise")

    def build(self, input_shape: list[tuple[int | None, ...]]) -> None:
        self.conv.build(input_shape)
        self.noise.build(self.conv.compute_output_shape(input_shape))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, inputs: list[tf.Tensor], training: bool | None = None) -> tf.Tensor:
        x = self.noise(self.conv(inputs), training=training)
        return bias_act(x, self.bias, "lrelu")

    def compute_output_shape(
        self, input_shape: list[tuple[int | None, ...]]
    ) -> tuple[int | None, ...]:
        return self.conv.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "up": self.up,
            "taps": self.taps,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class SynthesisNetwork(keras.layers.Layer):
    """ws (B, num_ws, w_dim) -> images (B, resolution, resolution, channels).

    Skip architecture: a learned 4x4 constant, then per resolution an up-sampling
    modulated conv and a modulated conv (each with noise), and a toRGB (1x1 modulated
    conv, no demodulation) whose output is added to the up-sampled running image.
    Style `ws[:, i]` feeds layer i in order conv, toRGB at 4x4, then conv0, conv1, toRGB
    per resolution (toRGB shares its index with the next conv), so
    `num_ws = 2 * log2(resolution) - 2`.

    Args:
        resolution: output side, a power of two >= 4.
        w_dim: w features.
        fmap_base, fmap_max: channels at resolution r are min(fmap_base * 2 / r, fmap_max).
        channels: image channels.
        taps: FIR taps of every up-sampling.
        seed: int seeding the noise layers (layer i gets seed + i), or None.
        **kwargs: base layer arguments.
    """

    def __init__(
        self,
        resolution: int,
        w_dim: int,
        fmap_base: int = 16384,
        fmap_max: int = 512,
        channels: int = 3,
        taps: Sequence[float] = DEFAULT_FILTER,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resolution = int(resolution)
        self.w_dim = int(w_dim)
        self.fmap_base = int(fmap_base)
        self.fmap_max = int(fmap_max)
        self.channels = int(channels)
        self.taps = check_taps(taps)
        self.seed = seed
        self.log2 = resolution_log2(self.resolution)
        self.num_ws = 2 * self.log2 - 2
        self.convs, self.torgbs = [], []
        for res in range(2, self.log2 + 1):
            side, filters = 2**res, self.nf(res - 1)
            for up in (False,) if res == 2 else (True, False):
                name = f"b{side}_conv" if res == 2 else f"b{side}_conv{int(not up)}"
                layer_seed = None if seed is None else seed + len(self.convs)
                self.convs.append(
                    SynthesisLayer(filters, up=up, taps=self.taps, seed=layer_seed, name=name)
                )
            self.torgbs.append(
                ModulatedConv2D(
                    self.channels, 1, demodulate=False, use_bias=True, name=f"b{side}_torgb"
                )
            )

    def nf(self, stage: int) -> int:
        """Channels at `stage` (resolution 2**(stage + 1))."""
        return feature_maps(stage, self.fmap_base, self.fmap_max)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.const = self.add_weight(
            name="const",
            shape=(4, 4, self.nf(1)),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        w_shape = (None, self.w_dim)
        x_shape = (None, 4, 4, self.nf(1))
        convs = iter(self.convs)
        for res, torgb in zip(range(2, self.log2 + 1), self.torgbs, strict=True):
            for _ in range(1 if res == 2 else 2):
                conv = next(convs)
                conv.build([x_shape, w_shape])
                x_shape = conv.compute_output_shape([x_shape, w_shape])
            torgb.build([x_shape, w_shape])

    def call(self, ws: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        batch = tf.shape(ws)[0]
        x = tf.tile(tf.cast(self.const, ws.dtype)[None], [batch, 1, 1, 1])
        convs = iter(self.convs)
        y = None
        for res, torgb in zip(range(2, self.log2 + 1), self.torgbs, strict=True):
            first = 0 if res == 2 else 2 * res - 5
            for i in range(1 if res == 2 else 2):
                x = next(convs)([x, ws[:, first + i]], training=training)
            rgb = torgb([x, ws[:, 2 * res - 3]])
            y = rgb if y is None else upsample_2d(y, self.taps) + rgb
        return y

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], self.resolution, self.resolution, self.channels)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "resolution": self.resolution,
            "w_dim": self.w_dim,
            "fmap_base": self.fmap_base,
            "fmap_max": self.fmap_max,
            "channels": self.channels,
            "taps": self.taps,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_models.stylegan2")
class Generator(_StyleGAN2Model, GeneratorBackbone, keras.Model):
    """StyleGAN2 generator (Karras et al., 2020), config F with the skip architecture.

    ```python
    g = Generator.from_preset("cifar32")               # or Generator(resolution=..., ...)
    images = g(z, training=True)                       # z: (B, latent_dim)
    samples = g(z, truncation_psi=0.7)                 # truncation trick for sampling
    g_cond = Generator(resolution=32, num_classes=10)
    images = g_cond([z, labels])                       # labels: int (B,)
    ```

    Output images are NHWC, float, roughly in [-1, 1]: as in the reference there is no
    final tanh (the toRGB layers are linear), so values can exceed the range slightly;
    clip for display.

    In training (`training=True`) the generator (1) updates the tracked average
    `w_avg <- lerp(mean_batch(w), w_avg, w_avg_beta)`, and (2) applies style mixing:
    with probability `style_mixing_prob`, per sample, a second latent is drawn and its w
    replaces the first from a random layer index in [1, num_ws) on. Both are skipped at
    inference. Per-pixel noise is drawn in training and inference alike. All randomness
    comes from `keras.random.SeedGenerator`s (the model's own and one per noise layer).

    Truncation (`truncation_psi < 1`) moves each w towards `w_avg`:
    `w' = w_avg + psi * (w - w_avg)` for the first `truncation_cutoff` layers (all when
    None); it is meant for sampling, not training.

    For path-length regularisation and style editing the parts are exposed:
    `styles(inputs, ...)` returns ws (B, num_ws, w_dim) and `synthesis(ws)` images.

    Args:
        resolution: output side, a power of two >= 4.
        latent_dim: z features.
        w_dim: w features.
        num_classes: None for unconditional; else labels are embedded and
            concatenated to z.
        mapping_layers: layers of the mapping network (8).
        mapping_units: hidden features of the mapping network (`w_dim` when None).
        mapping_lrmul: learning-rate multiplier of the mapping network (0.01).
        width, fmap_max: channels at resolution r are min(width * 2 / r, fmap_max)
            (`width` is StyleGAN2's `fmap_base`, 16384 when None). Lower `width` to scale
            the model down.
        channels: image channels.
        taps: FIR up-sampling filter; (1, 3, 3, 1) is bilinear, (1, 1) nearest.
        style_mixing_prob: per-sample probability of style mixing in training.
        w_avg_beta: decay of the tracked average w.
        seed: int for reproducible noise and style mixing, or None.
        fmap_base: another name of `width`.
        **kwargs: base `keras.Model` arguments (name, dtype, ...).
    """

    def __init__(
        self,
        resolution: int = 1024,
        latent_dim: int = 512,
        w_dim: int = 512,
        num_classes: int | None = None,
        mapping_layers: int = 8,
        mapping_units: int | None = None,
        mapping_lrmul: float = 0.01,
        width: int | None = None,
        fmap_max: int = 512,
        channels: int = 3,
        taps: Sequence[float] = DEFAULT_FILTER,
        style_mixing_prob: float = 0.9,
        w_avg_beta: float = 0.995,
        seed: int | None = None,
        fmap_base: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resolution = int(resolution)
        self.latent_dim = int(latent_dim)
        self.w_dim = int(w_dim)
        self.num_classes = num_classes
        self.width = scaling_width(width, fmap_base)
        self.fmap_max = int(fmap_max)
        self.channels = int(channels)
        self.taps = check_taps(taps)
        self.style_mixing_prob = float(style_mixing_prob)
        self.w_avg_beta = float(w_avg_beta)
        self.seed = seed
        self.mapping = MappingNetwork(
            latent_dim,
            w_dim,
            num_layers=mapping_layers,
            units=mapping_units,
            lrmul=mapping_lrmul,
            num_classes=num_classes,
            name="mapping",
        )
        self.synthesis = SynthesisNetwork(
            resolution,
            w_dim,
            fmap_base=self.width,
            fmap_max=fmap_max,
            channels=channels,
            taps=self.taps,
            seed=None if seed is None else seed + 1,
            name="synthesis",
        )
        self.num_ws = self.synthesis.num_ws
        self.seed_generator = keras.random.SeedGenerator(seed, name="style_mixing_seed")
        self._build_at_construction()

    def build(self, input_shape: Any) -> None:
        if self.built:  # built by the constructor; building again would add weights
            return
        z_shape = input_shape[0] if self.num_classes else input_shape
        self.mapping.build(z_shape)
        self.synthesis.build((None, self.num_ws, self.w_dim))
        # Averaged across replicas when updated under a distribution strategy.
        self.w_avg = self.add_weight(
            name="w_avg",
            shape=(self.w_dim,),
            initializer="zeros",
            trainable=False,
            aggregation="mean",
        )
        self.built = True

    def styles(
        self,
        inputs: tf.Tensor | list[tf.Tensor],
        training: bool | None = None,
        truncation_psi: float | tf.Tensor = 1.0,
        truncation_cutoff: int | None = None,
    ) -> tf.Tensor:
        """The styles of latents (and labels), as `call` feeds them to `synthesis`.

        Args:
            inputs: latents (B, latent_dim), or [latents, labels] when conditional.
            training: update the tracked average w and apply style mixing.
            truncation_psi: 1 for no truncation, else w moves towards `w_avg` by it.
            truncation_cutoff: truncate the first this many styles (all when None).

        Returns:
            ws (B, num_ws, w_dim).
        """
        z, labels = unpack(
            inputs, conditional=bool(self.num_classes), call="generator", first="latents"
        )
        mixing = training and self.style_mixing_prob > 0
        if mixing:
            # One mapping pass over both latent batches.
            z2 = keras.random.normal(tf.shape(z), dtype=z.dtype, seed=self.seed_generator)
            both = self.mapping(
                tf.concat([z, z2], 0), None if labels is None else tf.concat([labels] * 2, 0)
            )
            w, w2 = tf.split(both, 2, axis=0)
        else:
            w = self.mapping(z, labels)
        if training and self.w_avg_beta < 1:
            batch_mean = tf.cast(tf.reduce_mean(w, axis=0), self.w_avg.dtype)
            self.w_avg.assign(batch_mean + self.w_avg_beta * (self.w_avg - batch_mean))
        ws = tf.tile(w[:, None], [1, self.num_ws, 1])
        layer = tf.range(self.num_ws)[None, :, None]
        if mixing:
            batch = tf.shape(z)[0]
            cutoff = tf.where(
                keras.random.uniform([batch], seed=self.seed_generator) < self.style_mixing_prob,
                keras.random.randint([batch], 1, self.num_ws, seed=self.seed_generator),
                self.num_ws,
            )
            ws = tf.where(layer < cutoff[:, None, None], ws, w2[:, None])
        if not (isinstance(truncation_psi, int | float) and truncation_psi == 1):
            w_avg = tf.cast(self.w_avg, ws.dtype)
            truncated = w_avg + tf.cast(truncation_psi, ws.dtype) * (ws - w_avg)
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            ws = tf.where(layer < cutoff, truncated, ws)
        return ws

    def call(
        self,
        inputs: tf.Tensor | list[tf.Tensor],
        training: bool | None = None,
        truncation_psi: float | tf.Tensor = 1.0,
        truncation_cutoff: int | None = None,
    ) -> tf.Tensor:
        """Images (B, resolution, resolution, channels) of `styles(inputs, training,
        truncation_psi, truncation_cutoff)` (see `styles`)."""
        ws = self.styles(inputs, training, truncation_psi, truncation_cutoff)
        return self.synthesis(ws, training=training)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        batch = (input_shape[0] if self.num_classes else input_shape)[0]
        return (batch, self.resolution, self.resolution, self.channels)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "resolution": self.resolution,
            "latent_dim": self.latent_dim,
            "w_dim": self.w_dim,
            "num_classes": self.num_classes,
            "mapping_layers": self.mapping.num_layers,
            "mapping_units": self.mapping.units,
            "mapping_lrmul": self.mapping.lrmul,
            "width": self.width,
            "fmap_max": self.fmap_max,
            "channels": self.channels,
            "taps": self.taps,
            "style_mixing_prob": self.style_mixing_prob,
            "w_avg_beta": self.w_avg_beta,
            "seed": self.seed,
        }
