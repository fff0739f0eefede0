"""The ``faster-whisper`` transcriber: loaded once, reused for every utterance."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from streamemo.api import SAMPLE_RATE, ConfigError, Span, Transcriber, Transcript, hookimpl
from streamemo.audio_io import to_float32
from streamemo.default_plugins.whisper import batched, packing, seams, short_window
from streamemo.model_files import resolve_model_dir

WHISPER_FILES = ("model.bin", "config.json")


def whisper_model_dir(model: str) -> str:
    """A size name ("tiny.en", "large-v3"), a hub id, ``pkg:`` data or a local folder."""
    from faster_whisper.utils import _MODELS  # size name -> hub id, faster-whisper's own table

    return str(
        resolve_model_dir(
            _MODELS.get(model, model),
            what="Whisper model",
            option="transcriber.model",
            required=WHISPER_FILES,
            # what faster-whisper itself downloads: no PyTorch or TF weights
            allow_patterns=[
                "config.json",
                "preprocessor_config.json",
                "model.bin",
                "tokenizer.json",
                "vocabulary.*",
            ],
        )
    )


class WhisperTranscriber(Transcriber):
    def __init__(
        self,
        model: str = "small",
        device: str = "auto",
        compute_type: str = "auto",
        language: str | None = None,
        beam_size: int = 5,
        cpu_threads: int = 0,
        num_workers: int = 1,
        initial_prompt: str | None = None,
        without_timestamps: bool = True,
        temperature: float | list[float] = 0.0,
        pack_s: float = packing.WINDOW_S,
        pack_gap_s: float = 1.0,
        pack_batch: int = 4,
        draft_pad_s: float = 6.0,
    ):
        from faster_whisper import WhisperModel

        self.language = language or None  # "" or None: detect per utterance
        self.beam_size = beam_size
        self.initial_prompt = initial_prompt
        self.without_timestamps = without_timestamps
        self.temperature = temperature
        # transcribe_many: how much one pack holds (0: no packing), silence between utterances
        if not 0 <= pack_s <= packing.WINDOW_S:
            raise ConfigError(
                f"transcriber.pack_s must be 0-{packing.WINDOW_S:.0f} s (0: no packing), "
                f"not {pack_s!r}"
            )
        if not 0 <= pack_gap_s <= 5:
            raise ConfigError(f"transcriber.pack_gap_s must be 0-5 s, not {pack_gap_s!r}")
        self.pack_room_s = pack_s
        self.pack_gap_s = pack_gap_s
        # packed windows decoded as one batch (batched.py); 1: one after the other
        if not (isinstance(pack_batch, int) and 1 <= pack_batch <= 16):
            raise ConfigError(f"transcriber.pack_batch must be 1-16 windows, not {pack_batch!r}")
        self.pack_batch = pack_batch
        # live words: a window of the audio so far plus this much silence (0: 30 s)
        if not 0 <= draft_pad_s <= packing.WINDOW_S:
            raise ConfigError(
                f"transcriber.draft_pad_s must be 0-{packing.WINDOW_S:.0f} s "
                f"(0: drafts on Whisper's full 30 s window), not {draft_pad_s!r}"
            )
        self.draft_pad_s = draft_pad_s
        self._draft_tokens: tuple[Any, list[int]] | None = None
        if device == "auto":
            import ctranslate2

            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        if compute_type == "auto":  # the seed's choice: float16 on a GPU, int8 on a CPU
            compute_type = "float16" if device == "cuda" else "int8"
        self.device, self.compute_type = device, compute_type
        self.num_workers = num_workers
        self.model = WhisperModel(
            whisper_model_dir(model),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            # transcriptions that may run at once (streamemo serve: several streams)
            num_workers=num_workers,
        )

    @classmethod
    def preflight(cls, *, model: str, **_options: Any) -> None:
        """Before anything loads: the model is found (the weights are not read)."""
        whisper_model_dir(model)

    def transcribe(self, audio: np.ndarray) -> Transcript:
        segments, info = self._run(_float32(audio), self.without_timestamps)
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return self._transcript(text, info)

    def transcribe_draft(self, audio: np.ndarray) -> Transcript:
        """Live words: the audio so far on a window cut to it (``draft_pad_s`` of silence
        after it; see short_window.py) with the final's beam: 1.6 times as fast as the
        30 s window on a whole sentence, 2.7 times on its first second, at no worse word
        error rate (benchmarks/drafts.py); the final is still heard on the full window.

        With ``draft_pad_s = 0``, or a language to detect, or audio that leaves no room
        in 30 s: the full window, decoded greedily (beam 1)."""
        samples = _float32(audio)
        seconds = short_window.window_s(len(samples), self.draft_pad_s)
        multilingual = self.model.model.is_multilingual
        if seconds is None or (multilingual and self.language is None):
            segments, info = self._run(samples, True, beam_size=1)
            text = " ".join(segment.text.strip() for segment in segments).strip()
            return self._transcript(text, info)
        tokenizer, suppress = self._draft_tokenizer()
        text, no_speech, logprob = short_window.decode(
            self.model, tokenizer, suppress, samples, seconds, self.beam_size
        )
        from faster_whisper.transcribe import get_compression_ratio

        signals = SimpleNamespace(
            no_speech_prob=no_speech,
            avg_logprob=logprob,
            compression_ratio=get_compression_ratio(text),
        )
        language = self.language or "en"  # an English-only model: no language to detect
        return Transcript(text=text if is_speech(signals) else "", language=language)

    def _draft_tokenizer(self) -> tuple[Any, list[int]]:
        if self._draft_tokens is None:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens

            multilingual = self.model.model.is_multilingual
            tokenizer = Tokenizer(
                self.model.hf_tokenizer,
                multilingual,
                task="transcribe",
                language=self.language if multilingual else None,
            )
            # faster-whisper's default suppression: -1 stands for the non-speech symbols
            self._draft_tokens = (tokenizer, get_suppressed_tokens(tokenizer, [-1]))
        return self._draft_tokens

    def transcribe_span(self, span: Span) -> Transcript:
        """A part of a monologue cut at max_utterance_s, heard with the audio across its
        cuts: a word at a cut is heard whole and kept by one part (see seams.py)."""
        if not span.context:
            return self.transcribe(span.audio)
        segments, info = self._run(
            _float32(span.audio), self.without_timestamps, word_timestamps=True
        )
        return self._transcript(seams.own_text(seams.words_of(segments), span), info)

    def transcribe_many(self, audios: Sequence[np.ndarray]) -> list[Transcript]:
        """Consecutive utterances packed into shared 30 s windows (see whisper_packing)."""
        return self.transcribe_span_many([Span(audio, 0, len(audio)) for audio in audios])

    def transcribe_span_many(self, spans: Sequence[Span]) -> list[Transcript]:
        """The same for spans, in order: the part after a cut needs the one before it."""
        if self.language is None or len(spans) < 2 or not self.pack_room_s:
            # detected per utterance: one window holds one language, so no packing
            return [self.transcribe_span(span) for span in spans]
        gap = round(self.pack_gap_s * SAMPLE_RATE)
        room = round(self.pack_room_s * SAMPLE_RATE)
        results: list[Transcript | None] = [None] * len(spans)
        groups = packing.plan([len(span.audio) for span in spans], room, gap)
        laid = {}  # group -> its parts, which of them are joined, and its pack
        for g, group in enumerate(groups):
            if len(group) > 1:
                # parts of one monologue go in as one stretch, not twice across each cut
                parts, joined = seams.join([spans[i] for i in group])
                audios = [_float32(part.audio) for part in parts]
                pack = packing.lay_out(list(range(len(group))), audios, gap, joined)
                laid[g] = (parts, joined, pack)
        heard_packs = dict(
            zip(laid, self._hear_packs([p.audio for *_, p in laid.values()]), strict=True)
        )
        for g, group in enumerate(groups):
            if g not in laid:  # alone (or too long to share): the plain path
                results[group[0]] = self.transcribe_span(spans[group[0]])
                continue
            parts, joined, pack = laid[g]
            # split by word timestamps: a segment may hold words of two utterances
            segments, info = heard_packs[g]
            texts, doubtful = packing.split(pack, segments)
            # a doubtful part is heard alone, and so are those joined to it: the parts at a
            # cut must go by the same decode, or agree through their Cut (seams.py)
            for run in seams.joined_runs(len(group), joined):
                if doubtful & set(run):
                    doubtful |= set(run)
            heard = seams.words_by_utterance(pack, segments)
            for n, (i, text) in enumerate(zip(group, texts, strict=True)):
                if n in doubtful:
                    results[i] = self.transcribe_span(spans[i])
                elif spans[i].context:  # its own words only, agreed with its neighbours
                    results[i] = self._transcript(seams.own_text(heard[n], parts[n]), info)
                else:
                    results[i] = self._transcript(text, info)
        return results

    def _hear_packs(self, audios: list[np.ndarray]) -> list[tuple[list, Any]]:
        """Each pack's segments (word timestamps) and info, up to ``pack_batch`` packs
        decoded as one batch. A list of temperatures (the fallback to sampling) goes one
        pack at a time: the batch decodes at one temperature."""
        if self.pack_batch < 2 or not isinstance(self.temperature, int | float):
            return [self._run(audio, False, word_timestamps=True) for audio in audios]
        found: list[tuple[list, Any]] = []
        for at in range(0, len(audios), self.pack_batch):
            some = audios[at : at + self.pack_batch]
            if len(some) == 1:
                found.append(self._run(some[0], False, word_timestamps=True))
                continue
            windows, info = batched.hear_windows(
                self.model,
                some,
                language=self.language,
                beam_size=self.beam_size,
                initial_prompt=self.initial_prompt,
                temperature=self.temperature,
            )
            found += [([s for s in segments if is_speech(s)], info) for segments in windows]
        return found

    def _run(
        self,
        samples: np.ndarray,
        without_timestamps: bool,
        word_timestamps: bool = False,
        beam_size: int | None = None,
    ) -> tuple[list, Any]:
        segments, info = self.model.transcribe(
            samples,
            language=self.language,
            beam_size=beam_size or self.beam_size,
            initial_prompt=self.initial_prompt,
            # each utterance stands alone: carrying text over only spreads hallucinations
            condition_on_previous_text=False,
            vad_filter=False,  # the segmenter already cut on speech
            # one utterance needs no timestamps; decoding text only is also more accurate
            # (WER on en_long.wav with true boundaries: 9.8 % -> 8.4 %)
            without_timestamps=without_timestamps,
            word_timestamps=word_timestamps,
            # 0 alone: beam search, same words every run. faster-whisper's default falls
            # back to sampling (0.2 ... 1.0) on unsure utterances, which made transcripts
            # differ from run to run; list temperatures to get that fallback back.
            temperature=self.temperature,
        )
        # segments is lazy: decode here, and drop what Whisper itself says is not speech
        return [segment for segment in segments if is_speech(segment)], info

    @staticmethod
    def _transcript(text: str, info: Any) -> Transcript:
        return Transcript(
            text=text.strip(),
            language=info.language,
            extra={"language_probability": info.language_probability},
        )


# Whisper's own no-speech test, with a stricter bar for the decode that overrules it.
# faster-whisper drops a window when p(no speech) > 0.6 unless its avg log-prob beats
# -1.0. On noise and tones tiny.en says p(no speech) 0.91-0.96 and still decodes "you"
# at -0.86 to -1.0, or a repetition loop at -0.2; on speech p(no speech) stays under 0.43
# (en_diary, en_long, ko_diary), so only decodes Whisper already calls non-speech are hit.
NO_SPEECH_PROB = 0.6  # faster-whisper's no_speech_threshold
SURE_LOGPROB = -0.5  # an avg log-prob this good overrules a high p(no speech)


def is_speech(segment: Any) -> bool:
    """Whether a faster-whisper segment is speech by Whisper's own signals: a likely
    no-speech window keeps its text only when decoded surely and without a loop."""
    if segment.no_speech_prob <= NO_SPEECH_PROB:
        return True
    return (
        segment.avg_logprob >= SURE_LOGPROB
        and segment.compression_ratio <= packing.COMPRESSION_RATIO_MAX
    )


def _float32(audio: np.ndarray) -> np.ndarray:
    return to_float32(audio) if audio.dtype == np.int16 else audio


@hookimpl
def register_transcribers(register):
    register("faster-whisper", WhisperTranscriber)
