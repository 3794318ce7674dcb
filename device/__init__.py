"""serdevice.device: the light, on-device half of serdevice (streaming loop, model loading).

Layers, each importing only itself and the layers above it in this list (tests/
test_device_imports.py holds it):

1. the stream: audio, resampler, sources, microphone, features (+ egemaps_names), gate, normalize,
   adaptation, state, calibration, model, sidecar, decision, pipeline, events, fanout, runtime,
   files (atomic writes), retry (backoff),
   contracts. No click, paho or psycopg; no sink, clinic or CLI module.
2. sinks: sinks (stdout, file, text, MQTT), mqtt (the transport), live, live_page.
3. the clinic side: record, store, event_log, timeline, report, report_png, loadgen. Imports
   without openSMILE, LiteRT or sounddevice.
4. deployment: service (the systemd unit), watchdog.
5. the CLI: cli, commands/, benchmark.

Must not import torch, sklearn, serdevice.train or serdevice.export. TensorFlow is never required:
model.py uses ``tensorflow.lite`` only as the last fallback, when neither ai-edge-litert nor
tflite-runtime is installed and TensorFlow is.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("serdevice")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
