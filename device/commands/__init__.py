"""Subcommands of the serdevice CLI that run on the device."""
