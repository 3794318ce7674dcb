"""``serdevice listen``: the streaming recognizer, microphone (or file, or stdin) in, events out."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from ..stream.contracts import InputError
from ..stream.decision import DecisionConfig
from ..stream.events import Error
from ..stream.gate import GateConfig
from ..stream.model import DEFAULT_MODEL
from .mqtt_options import mqtt_options
from .normalization import choose_normalization
from .options import adaptation_options, vad_aggressiveness_option

_DECISION = DecisionConfig()  # the defaults live in the config classes; the options show them
SOURCE_HELP = "mic (default), an audio FILE, or - for raw s16le PCM on stdin (with --rate)."


class StopRequest:
    """SIGINT/SIGTERM handlers that end the stream with a ``stop`` event and exit 0.

    Installed before anything is set up; a signal that arrives before the stream exists is
    kept and applied as soon as the stream is attached, so the stream starts and stops at once.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self._targets: tuple[Any, ...] = ()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.reason = "interrupted" if signum == signal.SIGINT else "terminated"
        self._apply()

    def attach(self, stream: Any, audio: Any) -> None:
        """Stop this stream and source on a signal (now, if one came already)."""
        self._targets = (stream, audio)
        self._apply()

    def _apply(self) -> None:
        if self.reason is not None and self._targets:
            stream, audio = self._targets
            stream.stop(self.reason)
            audio.stop()


def open_model(name: str) -> Any:
    """Load and verify a model (one-line error on any problem)."""
    from ..stream.model import Model

    return Model.load(name)


def make_source(
    source: str, *, device: str | None, fast: bool, rate: int | None, channels: int
) -> Any:
    """mic / FILE / - -> an AudioSource."""
    from ..stream.microphone import MicSource
    from ..stream.sources import FileSource, StdinSource

    if source == "-":
        if rate is None:
            raise InputError("--source - (raw PCM on stdin) needs --rate")
        return StdinSource(rate=rate, channels=channels)
    if source == "mic":
        return MicSource(device)
    return FileSource(Path(source), realtime=not fast)


def describe_calibration(calibration: Path | None, model: Any) -> dict[str, Any] | None:
    """The ``start`` event's note of the normalization in use (None: the model's own)."""
    if calibration is None:
        return None
    from ..stream.calibration import load_calibration

    calib = load_calibration(calibration, model)  # already checked by choose_normalization
    return {"file": calibration.name, "n_windows": calib.n_windows, "weight": calib.weight,
            "created": calib.created}  # fmt: skip


def make_sinks(fmt: str, *, output: Path | None, mqtt: str | None, serve: str | None,
               serve_token: str | None) -> tuple[list[Any], Any]:  # fmt: skip
    """The sinks listen writes to (stdout first), and the MQTT one when there is one."""
    from ..sinks.outputs import JsonlFile, JsonlStream, Mqtt, TextLine

    sinks: list[Any] = [TextLine() if fmt == "text" else JsonlStream()]
    if output is not None:
        sinks.append(JsonlFile(output))
    mqtt_sink = None
    if mqtt is not None:
        from .mqtt_options import settings_from_context

        mqtt_sink = Mqtt(settings_from_context(mqtt))
        sinks.append(mqtt_sink)
    if serve is not None or serve_token is not None:
        from ..sinks.live import start_live

        sinks.append(start_live(serve, serve_token))
    return sinks, mqtt_sink


def make_stream(model: Any, norm: Any, sinks: list[Any], *,
                config: Any) -> tuple[Any, Any]:  # fmt: skip
    """The stream (fed to systemd's watchdog) and the keeper of its adaptation state (None when
    nothing is kept), whose problems become ``error`` events in the stream."""
    from ..deployment.watchdog import Watchdog
    from ..stream.runtime import Stream

    stream: Any = None  # bound below; the keeper reports only once the stream runs
    keeper = norm.keeper(model, lambda message: stream.emit(
        Error(message=message, fault="state", recoverable=True)))  # fmt: skip
    stream = Stream.of(model, norm.normalizer, sinks=sinks, config=config,
                       watchdog=Watchdog.from_env(),  # a no-op unless systemd set NOTIFY_SOCKET
                       after_window=() if keeper is None else (keeper.after_window,))  # fmt: skip
    return stream, keeper


@click.command()
@click.option(
    "--model",
    "model_name",
    default=DEFAULT_MODEL,
    show_default=True,
    help="A .tflite path (its .json beside it) or a bundled model name.",
)
@click.option("--source", default="mic", show_default=True, help=SOURCE_HELP)
@click.option(
    "--device",
    default=None,
    help="Capture device: index or name substring (see: serdevice devices).",
)
@click.option("--rate", type=int, default=None, help="Sample rate of stdin PCM.")
@click.option(
    "--channels",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Channels of stdin PCM.",
)
@click.option(
    "--fast", is_flag=True, help="Read a file as fast as possible instead of in real time."
)
@click.option(
    "--duration",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Stop after this many seconds of audio.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Also append JSONL events to this file (rotated at 50 MB).",
)
@click.option(
    "--mqtt",
    default=None,
    help="Also publish events (QoS 1) to mqtt://host[:port]/topic or mqtts://... (TLS); while "
    "the broker is away, up to 10,000 events are queued and delivered when it returns.",
)
@mqtt_options
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=_DECISION.threshold,
    show_default=True,
    help="Minimum confidence (softmax of averaged scores) for an emotion event.",
)
@click.option(
    "--min-count",
    type=click.IntRange(1, 100),
    default=_DECISION.min_count,
    show_default=True,
    help="Hops the label must top within the averaging window.",
)
@click.option(
    "--suppression",
    type=click.FloatRange(0, 3600),
    default=_DECISION.suppression_s,
    show_default=True,
    help="Seconds between emotion events.",
)
@click.option(
    "--average",
    "average_s",
    type=click.FloatRange(0.1, 60),
    default=_DECISION.average_s,
    show_default=True,
    help="Seconds of hops averaged.",
)
@click.option("--every-hop", is_flag=True, help="Emit an emotion event on every speech hop.")
@click.option(
    "--calibration",
    type=click.Path(path_type=Path),
    default=None,
    help="A wearer's calibration file (serdevice calibrate), used as it is: no adaptation.",
)
@adaptation_options
@vad_aggressiveness_option
@click.option(
    "--serve",
    default=None,
    metavar="[HOST:]PORT",
    help="Also show the session live on a web page (events only, never audio); host "
    "127.0.0.1 unless given. Any other host needs a token.",
)
@click.option(
    "--serve-token",
    default=None,
    help="Token the live page requires (?token=...); generated and printed when --serve binds "
    "off loopback without one.",
)
def listen(model_name: str, source: str, device: str | None, rate: int | None, channels: int,
           fast: bool, duration: float | None, fmt: str, output: Path | None, mqtt: str | None,
           threshold: float, min_count: int, suppression: float, average_s: float,
           every_hop: bool, calibration: Path | None, state: Path | None, no_adapt: bool,
           freeze: bool, vad_aggressiveness: int, serve: str | None,
           serve_token: str | None) -> None:  # fmt: skip
    """Listen and emit emotion and activation events (JSON lines on stdout by default).

    Audio is analysed in memory and never written anywhere. The device adapts to its wearer and
    microphone by itself: each speech window is normalized with running statistics of the
    wearer's speech heard so far (kept in --state, statistics only). Ends with a `stop` event on
    end of input, --duration, Ctrl-C or SIGTERM.
    """
    stop = StopRequest()  # first: a signal during set-up still ends with start + stop, exit 0
    from ..sinks.outputs import StdoutClosed
    from ..stream.pipeline import PipelineConfig
    from ..stream.runtime import ListenConfig

    model = open_model(model_name)
    norm = choose_normalization(model, calibration=calibration, state=state, no_adapt=no_adapt,
                                freeze=freeze)  # fmt: skip
    audio = make_source(source, device=device, fast=fast, rate=rate, channels=channels)
    sinks, mqtt_sink = make_sinks(fmt, output=output, mqtt=mqtt, serve=serve,
                                  serve_token=serve_token)  # fmt: skip
    analysis = PipelineConfig(
        decision=DecisionConfig(average_s=average_s, threshold=threshold, min_count=min_count,
                                suppression_s=suppression, every_hop=every_hop),
        gate=GateConfig(aggressiveness=vad_aggressiveness),
    )  # fmt: skip
    stream, keeper = make_stream(model, norm, sinks,
                                 config=ListenConfig(pipeline=analysis, duration_s=duration))  # fmt: skip
    watchdog = stream.watchdog
    stop.attach(stream, audio)

    def started() -> None:
        if mqtt_sink is not None:  # its connection problems become error events in the stream
            mqtt_sink.report_to(lambda message: stream.emit(
                Error(message=message, fault="mqtt", recoverable=True)))  # fmt: skip
        watchdog.ready()

    def before_stop() -> None:
        watchdog.stopping()
        if keeper is not None:
            keeper.save()  # before stop: an error writing it is still part of the stream

    notes = [] if norm.problem is None else [Error(message=norm.problem, fault="state",
                                                   recoverable=True)]  # fmt: skip
    try:
        stream.session(audio, calibration=describe_calibration(calibration, model),
                       adaptation=norm.adaptation, notes=notes, on_started=started,
                       before_stop=before_stop)  # fmt: skip
    except StdoutClosed:
        sys.exit(0)
    finally:
        if keeper is not None:  # whatever ended the stream, keep what was learnt
            keeper.save(report=False)
        stream.fanout.close()
