"""A synthetic multilingual emotional-speech corpus, spoken by espeak-ng.

SYNTHETIC DATA. It stands in for the licence-gated acted corpora (IEMOCAP, Emo-DB, ...) so the
pipeline can run end to end here; it can tell whether the code learns *prosodic* emotion cues
and whether they transfer across languages, not how well a model will do on human voices.

Each utterance: one neutral sentence (written for the project, ``train/sentences/<lang>.txt``)
spoken by a voice variant (several male and female per language, each with its own baseline
pitch and rate), with prosody drawn from a continuous **activation** (arousal, 1-5) sampled per
utterance from its emotion's distribution. Rate, mean pitch, pitch range and loudness rise with
activation, and each emotion shifts them the way the emotional-speech-synthesis literature
describes (Murray & Arnott 1993; Burkhardt's emofilt rules): anger faster, louder, wider range;
happiness higher and much wider pitch; sadness slower, lower, narrower, quieter. Valence comes
from the emotion (plus jitter). A random gain and background noise at a random SNR follow, so
loudness alone does not give the answer. Deterministic for a seed.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import asdict, dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from serdevice.device.stream.contracts import SAMPLE_RATE, InputError, RuntimeFailure

from ..parallel import process_pool
from ..progress import progress_bar
from .schema import EMOTIONS, Utterance, write_manifest

LANGUAGES = ("en", "de", "fr", "da", "ur", "el")
FOUR_EMOTIONS = ("neutral", "sad", "happy", "angry")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmotionProsody:
    """An emotion's activation distribution and its prosodic shifts beyond activation."""

    activation_mean: float
    activation_sd: float
    pitch_shift: float  # espeak -p units (0-99 scale)
    range_shift: float  # relative change of pitch range
    rate_shift: float  # relative change of speaking rate


# Murray & Arnott (1993), Table 1, and emofilt's rule sets, reduced to four knobs.
PROSODY: dict[str, EmotionProsody] = {
    "neutral": EmotionProsody(activation_mean=2.7, activation_sd=0.40, pitch_shift=0.0,
                              range_shift=0.0, rate_shift=0.0),
    "sad": EmotionProsody(activation_mean=1.8, activation_sd=0.40, pitch_shift=-3.0,
                          range_shift=-0.25, rate_shift=-0.05),
    "happy": EmotionProsody(activation_mean=3.8, activation_sd=0.45, pitch_shift=6.0,
                            range_shift=0.35, rate_shift=0.0),
    "angry": EmotionProsody(activation_mean=4.3, activation_sd=0.40, pitch_shift=-3.0,
                            range_shift=0.10, rate_shift=0.05),
    "fear": EmotionProsody(activation_mean=4.0, activation_sd=0.40, pitch_shift=8.0,
                           range_shift=-0.10, rate_shift=0.10),
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """Everything needed to render one utterance, independent of any other."""

    out: Path
    language: str
    speaker: str
    gender: str
    voice: str
    text: str
    emotion: str
    activation: float
    valence: float
    rate_wpm: int
    pitch: int
    range_pct: int
    amplitude: int
    snr_db: float
    peak: float
    seed: int


def sentences(language: str) -> list[str]:
    """The project's neutral sentences for a language."""
    text = files("serdevice.train").joinpath("sentences", f"{language}.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _speaker(language: str, index: int, seed: int) -> tuple[str, str, str, float, float]:
    rng = np.random.default_rng([seed, LANGUAGES.index(language) if language in LANGUAGES else 99,
                                 index, 1])  # fmt: skip
    gender = "f" if index % 2 == 0 else "m"
    variant = f"f{1 + (index // 2) % 4}" if gender == "f" else f"m{1 + (index // 2) % 7}"
    base_pitch = rng.normal(58.0 if gender == "f" else 42.0, 5.0)
    base_rate = rng.normal(160.0, 12.0)
    return f"{language}-{gender}{index + 1}", gender, f"{language}+{variant}", base_pitch, base_rate


def plan(
    out: Path,
    *,
    languages: tuple[str, ...],
    speakers: int,
    n_sentences: int,
    seed: int,
    other_share: float,
) -> list[Job]:
    """Every utterance to render, with its prosody drawn (pure; no audio yet)."""
    jobs = []
    for language in languages:
        texts = sentences(language)
        for k in range(speakers):
            speaker, gender, voice, base_pitch, base_rate = _speaker(language, k, seed)
            for j in range(n_sentences):
                emotions = list(FOUR_EMOTIONS)
                draw = np.random.default_rng([seed, k, j, len(language), 2]).random()
                if draw < other_share:
                    emotions.append("fear")
                for e, emotion in enumerate(emotions):
                    rng = np.random.default_rng(
                        [seed, LANGUAGES.index(language) if language in LANGUAGES else 99, k, j, e]
                    )
                    p = PROSODY[emotion]
                    activation = float(
                        np.clip(rng.normal(p.activation_mean, p.activation_sd), 1, 5)
                    )
                    c = activation - 3.0
                    valence = float(np.clip(EMOTIONS[emotion][2] + rng.normal(0, 0.25), 1, 5))
                    jobs.append(
                        Job(
                            out=out / "wav" / language / speaker
                            / f"{speaker}_{j:02d}_{emotion}.wav",
                            language=language, speaker=speaker, gender=gender, voice=voice,
                            text=texts[j % len(texts)], emotion=emotion,
                            activation=round(activation, 3), valence=round(valence, 3),
                            rate_wpm=int(np.clip(base_rate * (1 + 0.10 * c + p.rate_shift)
                                                 + rng.normal(0, 6), 80, 320)),
                            pitch=int(np.clip(base_pitch + 7 * c + p.pitch_shift
                                              + rng.normal(0, 3), 0, 99)),
                            range_pct=int(np.clip(100 * (1 + 0.25 * c + p.range_shift)
                                                  + rng.normal(0, 10), 20, 250)),
                            amplitude=int(np.clip(100 * (1 + 0.2 * c) + rng.normal(0, 8), 20, 200)),
                            snr_db=round(float(rng.uniform(12, 35)), 2),
                            peak=round(float(rng.uniform(0.15, 0.9)), 3),
                            seed=int(rng.integers(2**31)),
                        )
                    )  # fmt: skip
    return jobs


def speak(
    voice: str, text: str, *, rate_wpm: int, pitch: int, range_pct: int, amplitude: int
) -> np.ndarray:
    """espeak-ng's rendering of ``text`` as float32 at 16 kHz."""
    import soundfile

    from serdevice.device.stream.audio import resample

    ssml = f'<speak><prosody range="{range_pct}%">{_escape(text)}</prosody></speak>'
    try:
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "-a", str(amplitude),
             "-m", "--stdout", ssml],
            check=True, capture_output=True, timeout=60,
        ).stdout  # fmt: skip
    except FileNotFoundError:
        raise RuntimeFailure("espeak-ng is not installed (make setup installs it)") from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeFailure(
            f"espeak-ng failed for voice {voice}: {exc.stderr.decode()[:200]}"
        ) from None
    data, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return resample(data, rate)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(job: Job) -> None:
    """Speak one job, add pauses, noise and gain, write 16-bit 16 kHz mono."""
    import soundfile

    rng = np.random.default_rng(job.seed)
    voice = speak(job.voice, job.text, rate_wpm=job.rate_wpm, pitch=job.pitch,
                  range_pct=job.range_pct, amplitude=job.amplitude)  # fmt: skip
    lead, tail = (int(rng.uniform(0.15, 0.4) * SAMPLE_RATE) for _ in range(2))
    signal = np.concatenate([np.zeros(lead, np.float32), voice, np.zeros(tail, np.float32)])
    speech_rms = float(np.sqrt(np.mean(voice**2))) or 1e-4
    noise = rng.standard_normal(signal.size).astype(np.float32)
    noise = np.convolve(noise, np.ones(4, np.float32) / 4, mode="same").astype(
        np.float32
    )  # a little less hiss
    noise *= speech_rms / (np.sqrt(np.mean(noise**2)) * 10 ** (job.snr_db / 20))
    mixed = signal + noise
    mixed *= job.peak / max(float(np.abs(mixed).max()), 1e-6)
    job.out.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(job.out, mixed.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")


def _utterance(job: Job) -> Utterance:
    return Utterance(
        path=job.out.resolve(), corpus="synth", speaker=job.speaker, gender=job.gender,
        language=job.language, label=EMOTIONS[job.emotion][0], activation=job.activation,
        valence=job.valence, split_group=job.speaker,
    )  # fmt: skip


def generate(
    out: Path,
    *,
    languages: tuple[str, ...] = LANGUAGES,
    speakers: int | None = None,
    sentences_per_speaker: int | None = None,
    seed: int = 0,
    quick: bool = False,
    jobs: int = 2,
    progress: bool = True,
) -> Path:
    """Render the corpus into ``out`` and write ``out/manifest.csv``; returns the manifest path."""
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise InputError(f"no sentences for language(s) {', '.join(unknown)}: choose from "
                         f"{', '.join(LANGUAGES)}")  # fmt: skip
    speakers = speakers or (2 if quick else 8)
    n_sentences = sentences_per_speaker or (4 if quick else 12)
    todo = plan(Path(out).resolve(), languages=tuple(languages), speakers=speakers,
                n_sentences=n_sentences, seed=seed, other_share=0.0 if quick else 0.1)  # fmt: skip
    bar = progress_bar(len(todo), desc="synth", unit="utt", enabled=progress)
    if jobs > 1:
        with process_pool(jobs) as pool:
            for _ in pool.map(render, todo, chunksize=16):
                bar.update(1)
    else:
        for job in todo:
            render(job)
            bar.update(1)
    bar.close()
    manifest = Path(out) / "manifest.csv"
    extra = [{k: v for k, v in asdict(job).items() if k not in ("out", "language", "speaker",
              "gender", "activation", "valence", "seed")} for job in todo]  # fmt: skip
    write_manifest([_utterance(job) for job in todo], manifest, extra=extra)
    return manifest


def make_sample(out: Path, *, seed: int = 0) -> Path:
    """The bundled sample: one English voice, neutral -> angry -> sad, with pauses (~12 s)."""
    import soundfile

    rng = np.random.default_rng(seed)
    texts = sentences("en")
    pieces = []
    for index, emotion in enumerate(("neutral", "angry", "sad")):
        p = PROSODY[emotion]
        c = p.activation_mean - 3.0
        voice = speak("en+f2", texts[index], rate_wpm=int(170 * (1 + 0.1 * c + p.rate_shift)),
                      pitch=int(55 + 7 * c + p.pitch_shift),
                      range_pct=int(100 * (1 + 0.25 * c + p.range_shift)),
                      amplitude=int(100 * (1 + 0.2 * c)))  # fmt: skip
        pieces += [voice, np.zeros(int(0.6 * SAMPLE_RATE), np.float32)]
    signal = np.concatenate(pieces)
    signal += 0.002 * rng.standard_normal(signal.size).astype(np.float32)
    signal *= 0.7 / float(np.abs(signal).max())
    out.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(out, signal, SAMPLE_RATE, subtype="PCM_16")
    return out
