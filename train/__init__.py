"""serdevice.train: corpora, compact encoders, the seed's losses and evaluation protocol."""
