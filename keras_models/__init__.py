"""keras_models: GANs for DiffAugment in Keras 3 (model, losses, backbones, data, metrics)."""
