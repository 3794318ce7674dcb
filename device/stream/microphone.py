"""The microphone source: a capture thread reads PortAudio (sounddevice) in blocking mode into
a ring buffer; the reader cuts chunks where openSMILE's next window can close, and a lost device
is reopened with backoff while the watchdog is kept fed."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np

from .contracts import SAMPLE_RATE, InputError, RuntimeFailure
from .resampler import resampler_for
from .retry import retry
from .sources import FAST_BLOCK_S, FaultHandler, Resampler, Schedule, SourceStats, clean

# PortAudio's block (its period) for a microphone: the audio that closes a window reaches the
# loop within this much of being captured. Measured on a PulseAudio null sink (2026-12-02,
# benchmarks/bench_mic.py, 30 s, p50 / p99 window end -> event at the 48 / 16 kHz sinks, CPU
# per audio-second while playing; docs/performance.md): blocking reads at 10 ms 74 / 99-102,
# 73.5 / 90-91 ms, 55.8 ms/s; at 20 ms p99 112 / 101, 50 ms/s; at 5 ms p99 95, 56.5 ms/s. The
# callback capture before it: 20 ms 83 / 111, 52.2 ms/s; 10 ms p99 91-100, 64 ms/s.
LIVE_BLOCK_S = 0.01


class MicSource:
    """A capture device via sounddevice; a capture thread copies its reads into a preallocated
    ring (``Capture``), the reader takes from the ring.

    A device that goes away mid-stream (unplugged, its PulseAudio module unloaded, the stream
    stalled) is reported through ``on_fault`` and reopened with backoff until it returns or the
    source is stopped; the gap becomes at most ``GAP_FILL_S`` of silence, so no analysis window
    splices audio from before and after it. Only the first open failing is fatal.
    """

    BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # then every 30 s
    STALL_S = 5.0  # an open stream with no audio for this long counts as lost
    GAP_FILL_S = 2.0

    def __init__(self, device: str | None = None, *, ring_s: float = 10.0) -> None:
        self.spec = device
        self.device_index, info = find_input_device(device)
        self.name = f"mic:{info['name']}"
        self.native_rate = capture_rate(self.device_index, info)
        self.stats = SourceStats()
        self.on_fault: FaultHandler | None = None  # set by the loop
        self.on_waiting: Callable[[], object] | None = None  # while the device is away
        self.schedule: Schedule | None = None
        self._ring = np.zeros(int(self.native_rate * ring_s), dtype=np.float32)
        self._block = int(self.native_rate * LIVE_BLOCK_S)
        self._write = 0  # total samples written (monotonic)
        self._read = 0
        self._wanted = 0  # the reader waits until _write reaches this
        self._cond = threading.Condition()
        self._stop = threading.Event()

    def store(self, indata: np.ndarray, overflowed: bool) -> None:
        """Captured frames (frames x channels) into the ring; the reader is woken once the chunk
        it waits for is complete."""
        if overflowed:
            self.stats.overflows += 1
        frames = len(indata)
        mono = indata[:, 0] if indata.shape[1] == 1 else indata.mean(axis=1)
        size = len(self._ring)
        start = self._write % size
        end = min(start + frames, size)
        self._ring[start:end] = mono[: end - start]
        if end - start < frames:
            self._ring[: frames - (end - start)] = mono[end - start :]
        with self._cond:
            self._write += frames
            if self._write >= self._wanted:  # wake the reader only when its chunk is complete
                self._cond.notify()

    def frames_to_read(self) -> int:
        """The capture thread's next read: up to the sample the reader waits for (one read, one
        wake-up), at least one block."""
        with self._cond:
            missing = self._wanted - self._write
        return min(max(missing, self._block), len(self._ring) // 4)

    def wake(self) -> None:
        """Wake the reader (the capture thread stopped)."""
        with self._cond:
            self._cond.notify_all()

    def _open(self) -> Capture:
        """A started input stream on the device, read by its capture thread (RuntimeFailure if it
        cannot be opened)."""
        import sounddevice

        try:
            stream = sounddevice.InputStream(
                device=self.device_index, channels=1, samplerate=self.native_rate,
                dtype="float32", blocksize=self._block, latency="low",
            )  # fmt: skip
            stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudio's errors
            raise RuntimeFailure(f"cannot open capture device {self.name}: {exc}") from None
        return Capture(stream, self)

    def _reopen(self) -> Capture:
        """Rescan PortAudio's devices and open ours again (it may have a new index)."""
        import sounddevice

        sounddevice._terminate()  # PortAudio lists devices once per initialisation
        sounddevice._initialize()
        try:
            self.device_index, _ = find_input_device(self.spec)
        except InputError as exc:
            raise RuntimeFailure(str(exc)) from None
        return self._open()

    def chunks(self) -> Iterator[np.ndarray]:
        resample = resampler_for(self.native_rate, live=True)
        capture: Capture | None = self._open()
        try:
            while capture is not None:
                lost = yield from self._drain(capture, resample)
                capture.close()
                capture = None
                if self._stop.is_set():
                    return
                self.stats.reconnects += 1
                self._fault(f"capture device {self.name} lost ({lost}); reconnecting", lost=True)
                went = time.monotonic()
                capture = self._wait_for_device()
                if capture is None:
                    return
                gap = time.monotonic() - went
                self._fault(f"capture device {self.name} is back after {gap:.1f} s", lost=False,
                            gap_s=round(gap, 1))  # fmt: skip
                fill = np.zeros(int(SAMPLE_RATE * min(gap, self.GAP_FILL_S)), dtype=np.float32)
                yield fill
        finally:
            if capture is not None:
                capture.close()

    def _drain(self, capture: Capture, resample: Resampler) -> Generator[np.ndarray, None, str]:
        """Yield captured audio until the capture fails (return why) or the source is stopped."""
        last_audio = time.monotonic()
        while not self._stop.is_set():
            with self._cond:
                self._wanted = self._read + self._native_wanted(resample)
                if self._write < self._wanted:
                    self._cond.wait(timeout=0.5)
                available = self._write - self._read
            if available == 0:
                if capture.lost is not None:
                    return capture.lost
                if time.monotonic() - last_audio > self.STALL_S:
                    return f"no audio for {self.STALL_S:.0f} s"
                continue
            last_audio = time.monotonic()
            size = len(self._ring)
            if available > size:  # the reader fell behind a whole ring: drop the oldest
                self.stats.dropped_chunks += 1
                self._read = self._write - size
                available = size
            index = (self._read + np.arange(available)) % size
            self._read += available
            yield clean(resample(self._ring[index]), self.stats)
        return "stopped"

    def _native_wanted(self, resample: Resampler) -> int:
        """Captured samples (native rate) to wait for before the next chunk."""
        if self.schedule is None:
            return int(self.native_rate * FAST_BLOCK_S)
        return resample.frames_for(self.schedule())

    def _wait_for_device(self) -> Capture | None:
        """Reopen with backoff until it works (the stream) or the source is stopped (None).

        ``on_waiting`` is called about every second meanwhile: the loop is alive, only idle
        (the service's watchdog must not restart a process that is waiting for its microphone).
        """
        return retry(self._reopen, errors=(RuntimeFailure,), schedule=self.BACKOFF_S,
                     wait=self._idle, wait_first=True)  # fmt: skip

    def _idle(self, seconds: float) -> bool:
        """Wait ``seconds``, telling ``on_waiting`` about every second; True once stopped."""
        waited = 0.0
        while waited < seconds:
            if self.on_waiting is not None:
                self.on_waiting()
            step = min(1.0, seconds - waited)
            if self._stop.wait(step):
                return True
            waited += step
        return False

    def _fault(self, message: str, **fields: Any) -> None:
        if self.on_fault is not None:
            self.on_fault(message, **fields)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()


class Capture:
    """An open input stream and the thread that reads it into the source's ring.

    Blocking reads, not PortAudio's callback: a read waits in C, without the GIL, for exactly
    the frames the reader wants next, where the callback mode woke a thread per block (at 10 ms
    blocks ``listen`` took 64 ms CPU per audio-second with the callback, 56 with these reads;
    benchmarks/bench_mic.py, docs/performance.md).
    ``lost`` says why reading stopped (the device failed); None while it runs.
    """

    def __init__(self, stream: Any, source: MicSource) -> None:
        self.stream = stream
        self.lost: str | None = None
        self._done = threading.Event()
        self._source = source
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._done.is_set():
                data, overflowed = self.stream.read(self._source.frames_to_read())
                self._source.store(data, bool(overflowed))
        except Exception as exc:  # noqa: BLE001 - PortAudio's errors: the device is gone
            if not self._done.is_set():
                self.lost = str(exc) or type(exc).__name__
        finally:
            self._source.wake()

    def close(self) -> None:
        """Stop reading and close the stream (a read in progress ends within its frames)."""
        self._done.set()
        self._thread.join(timeout=2.0)  # a stalled device's read may never return: close anyway
        _close_quietly(self.stream)


def capture_rate(device: int | None, info: dict[str, object]) -> int:
    """16 kHz when the device (or PulseAudio) can capture at it, else its default rate.

    Capturing at 16 kHz skips the resampler (its ~3 ms look-ahead and ~9 ms CPU per second of
    audio, resampler.py).
    """
    import sounddevice

    try:
        sounddevice.check_input_settings(device=device, channels=1, samplerate=SAMPLE_RATE,
                                         dtype="float32")  # fmt: skip
    except Exception:  # noqa: BLE001 - PortAudio says no in several ways
        return int(float(str(info["default_samplerate"])))
    return SAMPLE_RATE


def _close_quietly(stream: Any) -> None:
    """Close a PortAudio stream that may already be broken."""
    with contextlib.suppress(Exception):  # a dead device's stream can fail to close; it is gone
        stream.close(ignore_errors=True)


def input_devices() -> list[dict[str, object]]:
    """Capture devices as sounddevice reports them (empty when PortAudio finds none)."""
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        raise RuntimeFailure(f"PortAudio is not available ({exc}); install libportaudio2") from None
    devices = []
    for index, info in enumerate(sounddevice.query_devices()):
        if info["max_input_channels"] > 0:
            devices.append({**info, "index": index})
    return devices


def find_input_device(spec: str | None) -> tuple[int | None, dict[str, object]]:
    """A device by index or name substring (None = the default); InputError lists the choices."""
    import sounddevice

    devices = input_devices()
    if spec is None:
        try:
            info = sounddevice.query_devices(kind="input")
        except Exception:  # noqa: BLE001 - no default input device
            info = None
        if not info:
            raise InputError("no capture device found (see: serdevice devices)")
        return None, dict(info)
    chosen = [
        d for d in devices if str(d["index"]) == spec or spec.lower() in str(d["name"]).lower()
    ]
    if not chosen:
        names = ", ".join(f"{d['index']}: {d['name']}" for d in devices) or "none"
        raise InputError(f"unknown capture device {spec!r} (available: {names})")
    return int(chosen[0]["index"]), chosen[0]  # type: ignore[call-overload]
