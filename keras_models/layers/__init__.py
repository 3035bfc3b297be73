"""Reusable Keras layers for the GAN backbones."""
