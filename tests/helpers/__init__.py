"""Shared test helpers (no tests here): `checks` (config round trip, `.keras` save/load,
XLA, distributed parity), `toy_gan` (tiny G/D/GAN), `runs` (train.py in a subprocess),
`tiny_inception`, `tensorboard`, `readme`, `diffaugment_numpy` (the reference ops),
`tfds_local` (a locally prepared tfds dataset)."""
