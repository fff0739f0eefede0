"""The results table: rows with the goal next to each figure, as Markdown, and the README
section between the markers below (the rest of benchmarks/README.md is left alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import fmt_spread

START = "<!-- benchmarks:table:start (python -m benchmarks --update-readme writes this part) -->"
END = "<!-- benchmarks:table:end -->"

Row = tuple[str, str, str, str, str]  # benchmark, figure, result, goal, status


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _pct(stat: dict[str, Any], unit: str = " ms", digits: int = 0) -> str:
    if not stat or stat.get("p50") is None:
        return "n/a"
    return f"{stat['p50']:.{digits}f} / {stat['p95']:.{digits}f}{unit}"


def voice_rows(r: dict[str, Any]) -> list[Row]:
    p, s, name = r["passes"], r["speedup"], "1 voice throughput"

    def rate(key: str) -> str:
        return (
            f"{fmt_spread(p[key]['utterances_per_s'], 0)} utt/s, "
            f"{fmt_spread(p[key]['windows_per_s'], 0)} windows/s"
        )

    what = f"{r['utterances']} utterances, {r['audio_seconds']:.0f} s"
    cover = "every window" if r["streamemo_covers_every_frame"] else "NOT every window"
    ok = s["streamemo_blas1"] >= 10 and r["streamemo_covers_every_frame"]
    bd = r["breakdown_ms_per_utterance"]["OpenBLAS 1 thread"]
    seed, ours = bd["seed"], bd["streamemo"]
    checks = r["checks"]
    return [
        (
            f"{name} ({what})",
            "seed: librosa.load + MFCC + first window, unbatched (OpenBLAS 1 thread)",
            rate("seed_blas1"),
            "",
            "",
        ),
        ("", "seed with the audio already in memory", rate("seed_in_memory_blas1"), "", ""),
        (
            "",
            f"streamemo `VoiceEmotion.analyse_many`, in memory, all {r['streamemo_windows']} "
            f"windows (seed: {r['seed_windows']}) in one batch",
            rate("streamemo_blas1"),
            "",
            "",
        ),
        (
            "",
            "streamemo `analyse`, one utterance at a time (live)",
            rate("streamemo_each_blas1"),
            "",
            "",
        ),
        (
            "",
            "**streamemo / seed, utterances/s** (same threads: OpenBLAS 1)",
            f"{s['streamemo_blas1']:.1f}x ({cover}); vs seed in memory "
            f"{r['speedup_vs_seed_in_memory']['streamemo_blas1']:.1f}x",
            ">= 10x, every window",
            _status(ok),
        ),
        (
            "",
            "one at a time / seed; both with the process's default threads "
            f"(torch {r['torch_threads']}, OpenBLAS {r['blas_threads']})",
            f"{s['streamemo_each_blas1']:.1f}x; batched {s['streamemo']:.1f}x, "
            f"one at a time {s['streamemo_each']:.1f}x",
            "",
            "",
        ),
        (
            "",
            "ms per utterance, seed: load / MFCC+delta / forward; streamemo: MFCC / "
            "windows+delta / forward",
            f"{seed['librosa.load']:.2f} / {seed['mfcc + first window + delta']:.2f} / "
            f"{seed['forward (1 window)']:.2f}; {ours['mfcc (all utterances)']:.2f} / "
            f"{ours['windows + delta']:.2f} / {ours['forward (every window, one batch)']:.2f}",
            "",
            "",
        ),
        (
            "",
            "same numbers: MFCC vs librosa (max diff / max value); batched vs one at a time",
            f"{checks['mfcc_vs_librosa_max_rel_diff']:.1e}; "
            f"{checks['batched_vs_each_max_score_diff']:.1e}",
            "",
            "",
        ),
    ]


def overhead_rows(r: dict[str, Any]) -> list[Row]:
    fw, se = r["whisper"], r["streamemo"]

    def three(side: dict[str, Any]) -> str:
        return " / ".join(fmt_spread(side[k], 1) for k in ("load_s", "process_s", "total_s"))

    name = f"2 file mode ({r['input']}, {r['audio_seconds']:.0f} s, cpu_threads={r['cpu_threads']})"
    return [
        (
            name,
            "faster-whisper alone, vad_filter=True: load / process / total (s)",
            three(fw),
            "",
            "",
        ),
        ("", "`streamemo run`, offline config: load / process / total (s)", three(se), "", ""),
        (
            "",
            "**total time, streamemo / faster-whisper**",
            f"{r['ratio_total']:.2f}x (per rep {fmt_spread(r['ratio_total_per_rep'], 2)})",
            "<= 1.25x",
            _status(r["ratio_total"] <= 1.25),
        ),
        (
            "",
            "processing only / loading only",
            f"{r['ratio_process']:.2f}x / {r['ratio_load']:.1f}x",
            "",
            "",
        ),
        (
            "",
            "Whisper encoder runs (30 s windows): streamemo / alone",
            f"{se['encoder_calls']} in {fmt_spread(se['encoder_s'], 1)} s / "
            f"{fw['encoder_calls']} in {fmt_spread(fw['encoder_s'], 1)} s",
            "",
            "",
        ),
        (
            "",
            "processing less the encoder's time: streamemo / alone (s)",
            f"{se['process_s']['median'] - se['encoder_s']['median']:.1f} / "
            f"{fw['process_s']['median'] - fw['encoder_s']['median']:.1f}",
            "",
            "",
        ),
        (
            "",
            "word error rate: streamemo / alone",
            f"{_num(se['wer'], '{:.1%}')} / {_num(fw['wer'], '{:.1%}')}",
            "",
            "",
        ),
    ]


def _num(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def latency_rows(r: dict[str, Any], label: str) -> list[Row]:
    if "skipped" in r:
        return [(label, "skipped", r["skipped"], "overhead p95 <= 60 ms", "n/a")]
    matched = f"{r['utterances_matched']}/{r['utterances_true']} utterances"
    p95 = r["overhead_ms"]["p95"]
    parts = " / ".join(
        f"{r[k]['p50']:.0f}" if isinstance(r[k], dict) else f"{r[k]:.0f}"
        for k in ("vad_end_ms", "capture_ms", "text_ms", "rest_ms")
    )
    rows: list[Row] = [
        (
            f"{label} ({r['input']}, {matched})",
            "latency from the true end of speech, p50 / p95",
            _pct(r["latency_ms"]),
            "",
            "",
        ),
        ("", "Whisper's own time (timing.transcribe_ms), p50 / p95", _pct(r["whisper_ms"]), "", ""),
        (
            "",
            f"**overhead = latency - Whisper - hangover_ms ({r['hangover_ms']:.0f})**, p50 / p95",
            _pct(r["overhead_ms"]),
            "p95 <= 60 ms",
            _status(p95 is not None and p95 <= 60),
        ),
        (
            "",
            "overhead after webrtcvad's own end (less VAD end - true end), p50 / p95",
            _pct(r["overhead_after_vad_ms"]),
            "(p95 <= 60 ms)",
            _status(r["overhead_after_vad_ms"]["p95"] <= 60),
        ),
        (
            "",
            "overhead parts, p50: VAD end - true end / capture delay / text emotion / rest "
            "(end decision - hangover_ms, queues, fusion)",
            parts + " ms",
            "",
            "",
        ),
        (
            "",
            "the event's own latency_ms (from the last voiced block's arrival), p50 / p95",
            _pct(r["own_latency_ms"]),
            "",
            "",
        ),
    ]
    if "audio_stack_delay_ms" in r:
        rows.append(
            (
                "",
                "on the play clock (paplay start) instead: latency; overhead, p50 / p95",
                _pct(r["latency_from_play_clock_ms"])
                + "; "
                + _pct(r["overhead_from_play_clock_ms"]),
                "",
                "",
            )
        )
    return rows


def memory_rows(m: dict[str, Any], overhead: dict[str, Any] | None) -> list[Row]:
    rows: list[Row] = []
    if overhead:
        rows.append(
            (
                "4 memory",
                "peak RSS, offline config, file mode (streamemo / faster-whisper alone)",
                f"{fmt_spread(overhead['streamemo']['peak_rss_mb'], 0)} / "
                f"{fmt_spread(overhead['whisper']['peak_rss_mb'], 0)} MB",
                "",
                "",
            )
        )
    growth = m.get("growth_mb")
    rows += [
        (
            "" if rows else "4 memory",
            f"**RSS growth over {m['audio_seconds'] / 60:.1f} min real time** after "
            f"{m['warmup_s']:.0f} s warm-up: last third vs first third, 10th percentiles",
            "n/a"
            if growth is None
            else f"{growth:+.1f} MB ({m['rss_after_warmup_mb']:.0f} -> {m['rss_end_mb']:.0f} MB; "
            f"medians {m['growth_of_medians_mb']:+.1f} MB; slope {m['slope_mb_per_min']:+.2f} "
            "MB/min)",
            "< 20 MB",
            _status(None if growth is None else growth < 20),
        ),
        ("", "peak RSS of that real-time run", f"{m['peak_rss_mb']:.0f} MB", "", ""),
    ]
    return rows


def scaling_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for i, size in enumerate(r["sizes"]):
        rows.append(
            (
                "5 scaling (file mode)" if i == 0 else "",
                f"{size['audio_minutes']:.2f} min of audio ({size['utterances']} utterances): "
                "process s / s per audio min / ratio / peak RSS (RSS slope while processing)",
                f"{fmt_spread(size['process_s'], 1)} / "
                f"{fmt_spread(size['process_s_per_audio_min'], 2)} / "
                f"{size['ratio_to_smallest']:.2f} / {size['peak_rss_mb']['median']:.0f} MB "
                f"(RSS {size['rss_mb_per_audio_min']['median']:+.1f} MB per audio min)",
                "",
                "",
            )
        )
    fit = r["linear_fit"]
    rows.append(
        (
            "",
            "**time per audio minute, largest ratio to the smallest size**",
            f"{r['max_ratio']:.2f} (fit {fit['seconds_per_audio_min']:.2f} s/min + "
            f"{fit['intercept_s']:.1f} s; peak RSS {r['peak_rss_growth_mb']:+.0f} MB)",
            "<= 1.2 (linear)",
            _status(r["max_ratio"] <= 1.2),
        )
    )
    return rows


def rows(results: dict[str, Any]) -> list[Row]:
    b = results["benchmarks"]
    out: list[Row] = []
    for key in ("voice", "overhead", "latency", "memory", "scaling", "text"):
        if key not in b:
            continue
        r = b[key]
        if "error" in r:
            out.append((key, "failed", r["error"].splitlines()[0][:200], "", "n/a"))
        elif key == "voice":
            out += voice_rows(r)
        elif key == "overhead":
            out += overhead_rows(r)
        elif key == "latency":
            out += latency_rows(r["file"], "3 latency, file --realtime")
            out += latency_rows(r["mic"], "3 latency, virtual mic")
        elif key == "memory":
            overhead = b.get("overhead")
            out += memory_rows(r, overhead if overhead and "error" not in overhead else None)
        elif key == "scaling":
            out += scaling_rows(r)
        elif key == "text":
            out.append(
                (
                    "text accuracy (info)",
                    "offline-en on emotion_dev.jsonl",
                    f"{r['accuracy']:.1%}",
                    "",
                    "",
                )
            )
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| benchmark | figure | result: median [min-max] | goal | status |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows(results):
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return "\n".join(lines)


def header(results: dict[str, Any]) -> str:
    m = results["machine"]
    load = results["load"]
    return (
        f"Run {results['date']} on `{m['node']}`: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gb']} GB, {m['os']}, Python {m['python']}, torch "
        f"{m['packages'].get('torch')}, ctranslate2 {m['packages'].get('ctranslate2')}, "
        f"faster-whisper {m['packages'].get('faster-whisper')}.  \n"
        f"Load average (1 min) before / after: {load['before'][0]:.2f} / "
        f"{load.get('after', [float('nan')])[0]:.2f}"
        f"{'; ' + results['load_note'] if results.get('load_note') else ''}.  \n"
        f"Command: `{results['command']}` ({results.get('duration_s', float('nan')) / 60:.1f} "
        "min); "
        f"raw figures: `{results['file']}`."
    )


def update_readme(path: Path, results: dict[str, Any]) -> None:
    """Replace the part between the markers; append it (with the markers) when absent."""
    block = f"{START}\n{header(results)}\n\n{markdown(results)}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
