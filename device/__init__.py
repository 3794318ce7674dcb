"""serdevice.device: the light, on-device half of serdevice (streaming loop, model loading).

Layers, one sub-package each; each imports only itself and the layers before it in this list
(tests/test_device_imports.py holds it):

1. stream/: the streaming loop, from audio to events (sources, resampler, features, gate,
   normalize, adaptation, model, decision, pipeline, events, runtime, ...). No click, paho or
   psycopg; no sink, clinic or CLI module.
2. sinks/: outputs (stdout, file, text, MQTT), mqtt (the transport), live, live_page.
3. clinic/: record, store, event_log, timeline, report, report_png, loadgen. Imports without
   openSMILE, LiteRT or sounddevice.
4. deployment/: service (the systemd unit), watchdog.
5. the CLI, here: cli, benchmark, commands/.

models/ and data/ hold the bundled models and sample audio.

Must not import torch, sklearn, serdevice.train or serdevice.export. TensorFlow is never required:
model.py uses ``tensorflow.lite`` only as the last fallback, when neither ai-edge-litert nor
tflite-runtime is installed and TensorFlow is.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("serdevice")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
