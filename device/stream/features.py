"""Streaming eGeMAPS: float32 chunks in, one ``FeatureRow`` per window out, in one openSMILE pass.

openSMILE's C binding (``opensmile/core/lib.py``) is loaded on its
own, so the full ``opensmile`` package (pandas, ~123 MB) is never imported on the device; an
external audio source whose wave level is a ring buffer and ring-buffered LLD levels keep memory
flat for hours; ``run()`` blocks until end of input, so it runs on its own thread; rows come back
through the external sink's callback, on that thread.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .contracts import N_FEATURES, SAMPLE_RATE, FeatureRow, RuntimeFailure
from .windowing import BULK_S, DEFAULT_WINDOWING, WHOLE_INPUT, Windowing, to_samples

_CONF_DIR = Path(__file__).with_name("opensmile_conf")
_SOURCE = "extsource"
_SINK = "extsink"
# Samples per write: small enough to fit the 64000-sample ring many times over.
_WRITE_SAMPLES = 8000
RING_SAMPLES = 64000  # openSMILE's audio ring (opensmile_conf/source_ring.conf.inc: nT)
# Pushed audio not yet written past this is written at once (faster than real time).
_FAST_WRITE_SAMPLES = to_samples(BULK_S)
# Back-off when the ring is full (only in faster-than-real-time use): openSMILE drains it in µs-ms.
_FULL_RING_WAIT_S = 0.001

_binding: ModuleType | None = None


def opensmile_root() -> Path:
    """Folder of the installed ``opensmile`` package, found without importing it."""
    spec = importlib.util.find_spec("opensmile")
    if spec is None or spec.origin is None:
        raise RuntimeFailure("opensmile is not installed: pip install 'serdevice[device]'")
    return Path(spec.origin).parent


def load_binding() -> ModuleType:
    """openSMILE's ctypes binding, loaded alone (no pandas, no audinterface)."""
    global _binding
    if _binding is None:
        path = opensmile_root() / "core" / "lib.py"
        spec = importlib.util.spec_from_file_location("serdevice_opensmile_lib", path)
        if spec is None or spec.loader is None:
            raise RuntimeFailure(f"cannot load openSMILE's binding from {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _binding = module
    return _binding


def opensmile_version() -> str:
    """Version of the installed opensmile package, read from its metadata (no import)."""
    from importlib.metadata import version

    return version("opensmile")


def _frame_mode_include(windowing: Windowing) -> str:
    if windowing.whole:  # one row over the whole input, at end of input
        return "frameMode = full\nframeSize = 0\nframeStep = 0\nframeCenterSpecial = left\n"
    return (
        "frameMode = fixed\n"
        f"frameSize = {windowing.window_s!r}\n"
        f"frameStep = {windowing.hop_s!r}\n"
        "frameCenterSpecial = left\n"
    )


def _options(root: Path, frame_mode_path: str) -> dict[str, object]:
    conf = root / "core" / "config"
    return {
        "-source": str(_CONF_DIR / "source_ring.conf.inc"),
        "-sink": str(conf / "shared" / "standard_external_data_output_single.conf.inc"),
        "-sinkLevel": "func",
        "-bufferModeRbConf": str(conf / "shared" / "BufferModeRb.conf.inc"),
        "-bufferModeConf": str(_CONF_DIR / "buffer_ring.conf.inc"),
        "-frameModeFunctionalsConf": frame_mode_path,
    }


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as little-endian int16 bytes (clipped, NaN as 0)."""
    clean = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return (np.clip(clean, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _new_smile(windowing: Windowing) -> Any:
    """An initialized openSMILE with our source, sink and frame mode (no callback yet)."""
    lib = load_binding()
    smile = lib.OpenSMILE()
    # openSMILE reads its configuration at initialize(); the small include can go after.
    fd, frame_mode_path = tempfile.mkstemp(prefix="serdevice-framemode-", suffix=".inc")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(_frame_mode_include(windowing))
        smile.initialize(
            str(opensmile_root() / "core" / "config" / "egemaps" / "v02" / "eGeMAPSv02.conf"),
            _options(opensmile_root(), frame_mode_path),
            loglevel=0,
        )
    finally:
        os.unlink(frame_mode_path)
    n = smile.external_sink_get_num_elements(_SINK)
    if n != N_FEATURES:
        smile.free()
        raise RuntimeFailure(f"openSMILE sink gives {n} values, expected {N_FEATURES}")
    return smile


class StreamingEgemaps:
    """eGeMAPSv02 functionals over sliding windows of a 16 kHz mono stream.

    ``push`` chunks of any size; each finished window is handed to ``on_row`` (called on the
    openSMILE thread) or kept for ``drain``. Audio is written to openSMILE in the pieces that
    ``windowing`` says (``Windowing.next_write``: the audio that can close the next window is
    written as soon as it is pushed). ``close`` ends the input, flushes the last rows and joins
    the thread; it is idempotent, and the object is a context manager.
    """

    def __init__(
        self,
        windowing: Windowing = DEFAULT_WINDOWING,
        *,
        on_row: Callable[[FeatureRow], None] | None = None,
    ) -> None:
        self.windowing = windowing
        self.rows_emitted = 0
        self.samples_pushed = 0  # received by push
        self.written = 0  # handed to openSMILE
        self._pending: list[np.ndarray] = []
        self._on_row = on_row
        self._kept: list[FeatureRow] = []
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._closed = False
        self._smile = self._start_smile()
        self._thread = threading.Thread(target=self._run, name="opensmile", daemon=True)
        self._thread.start()

    def _start_smile(self) -> Any:
        smile = _new_smile(self.windowing)
        smile.external_sink_set_callback(_SINK, self._receive)
        return smile

    def _run(self) -> None:
        try:
            self._smile.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller at close()
            self._error = exc

    def _receive(self, values: np.ndarray) -> None:
        if self.windowing.whole:
            t_end = round(self.samples_pushed / SAMPLE_RATE, 6)
        else:
            t_end = self.windowing.row_end(self.rows_emitted)
        row = FeatureRow(t_end=t_end, values=np.array(values, dtype=np.float32))
        self.rows_emitted += 1
        if self._on_row is None:
            with self._lock:
                self._kept.append(row)
            return
        try:
            self._on_row(row)
        except BaseException as exc:  # noqa: BLE001 - never let an exception cross into C
            self._error = exc

    def push(self, chunk: np.ndarray) -> None:
        """Feed float32 samples (16 kHz mono, any length); blocks only while the ring is full."""
        if self._closed:
            raise RuntimeFailure("push() after close()")
        self._raise_pending()
        samples = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if not len(samples):
            return
        self._pending.append(samples)
        self.samples_pushed += len(samples)
        cut = self.windowing.next_write(rows=self.rows_emitted, written=self.written)
        if self.samples_pushed >= cut:
            self._write_until(cut)  # a closing piece (or a bulk one): hand it over at once
        if self.samples_pushed - self.written >= _FAST_WRITE_SAMPLES:
            self._write_until(self.samples_pushed)  # faster than real time: big pieces

    def flush(self) -> None:
        """Write every pushed sample to openSMILE now."""
        self._write_until(self.samples_pushed)

    def _write_until(self, end: int) -> None:
        """Write the pending audio up to sample ``end`` (total count) to openSMILE."""
        if end <= self.written:
            return
        pending = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        cut = end - self.written
        self._pending = [pending[cut:]] if cut < len(pending) else []
        self.written = end
        pcm = to_pcm16(pending[:cut])
        step = _WRITE_SAMPLES * 2
        for start in range(0, len(pcm), step):
            piece = pcm[start : start + step]
            while not self._smile.external_audio_source_write_data(_SOURCE, piece):
                if not self._thread.is_alive():
                    self._raise_pending()
                    raise RuntimeFailure("openSMILE stopped while audio was being written")
                time.sleep(_FULL_RING_WAIT_S)

    def drain(self) -> list[FeatureRow]:
        """Rows kept so far (only when no ``on_row`` was given); clears them."""
        with self._lock:
            rows, self._kept = self._kept, []
        return rows

    def close(self) -> None:
        """End of input: flush the last windows, join the openSMILE thread, free it."""
        if self._closed:
            return
        self._closed = True
        try:
            self._write_until(self.samples_pushed)
            self._smile.external_audio_source_set_eoi(_SOURCE)
        finally:
            self._thread.join()
            self._smile.free()
        self._raise_pending()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> StreamingEgemaps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def extract_windows(
    signal: np.ndarray, windowing: Windowing = DEFAULT_WINDOWING
) -> list[FeatureRow]:
    """All window rows of a whole 16 kHz mono signal, through the streaming extractor."""
    with StreamingEgemaps(windowing) as stream:
        stream.push(signal)
    return stream.drain()


MIN_PARTIAL_S = 0.5  # audio shorter than one window still gets one row if at least this long


class ClipExtractor:
    """One row over each whole (short) clip, from one openSMILE instance reset between clips.

    A clip that fits openSMILE's audio ring is written before ``run``, which then runs on the
    caller's thread: no thread and no configuration parsing per clip. The rows are those of a
    fresh instance (checked in tests/test_features.py). Not thread-safe: one per thread.
    """

    def __init__(self) -> None:
        self._smile = _new_smile(WHOLE_INPUT)
        self._values: list[np.ndarray] = []

    def _receive(self, values: np.ndarray) -> None:
        self._values.append(np.array(values, dtype=np.float32))

    def __call__(self, samples: np.ndarray) -> FeatureRow | None:
        """The clip's row, or None if openSMILE gives none (or a non-finite one)."""
        if len(samples) > RING_SAMPLES:
            return _whole_row(samples)
        self._values = []
        self._smile.external_sink_set_callback(_SINK, self._receive)
        if len(samples) and not self._smile.external_audio_source_write_data(
            _SOURCE, to_pcm16(samples)
        ):
            raise RuntimeFailure("openSMILE refused a clip that fits its audio ring")
        self._smile.external_audio_source_set_eoi(_SOURCE)
        try:
            self._smile.run()
        finally:
            self._smile.reset()  # ready for the next clip (callbacks are registered again)
        if not self._values or not np.isfinite(self._values[0]).all():
            return None
        return FeatureRow(t_end=round(len(samples) / SAMPLE_RATE, 6), values=self._values[0])


_clip_extractors = threading.local()


def extract_whole(samples: np.ndarray) -> FeatureRow | None:
    """One row over a whole (short) signal, as at clip level; None if openSMILE gives none."""
    extractor = getattr(_clip_extractors, "extractor", None)
    if extractor is None:
        extractor = _clip_extractors.extractor = ClipExtractor()
    row: FeatureRow | None = extractor(samples)
    return row


def _whole_row(samples: np.ndarray) -> FeatureRow | None:
    """``extract_whole`` through a fresh streaming instance (any length)."""
    with StreamingEgemaps(WHOLE_INPUT) as stream:
        stream.push(samples)
    rows = stream.drain()
    if not rows or not np.isfinite(rows[0].values).all():
        return None
    return rows[0]
