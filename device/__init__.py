"""serdevice.device: the light, on-device half of serdevice (streaming loop, model loading).

Must not import torch, sklearn, serdevice.train or serdevice.export. TensorFlow is never required:
model.py uses ``tensorflow.lite`` only as the last fallback, when neither ai-edge-litert nor
tflite-runtime is installed and TensorFlow is.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("serdevice")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
