"""Subcommands of the serdevice CLI for training-side work."""
