"""serdevice.device: the light, on-device half of serdevice (streaming loop, model loading).

Must not import torch, tensorflow, sklearn, serdevice.train or serdevice.export.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("serdevice")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
