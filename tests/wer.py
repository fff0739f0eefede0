"""Word error rate with the usual normalisation (case and punctuation ignored)."""

import re

import jiwer


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def wer(references: list[str], hypotheses: list[str]) -> float:
    return jiwer.wer(" ".join(map(normalise, references)), " ".join(map(normalise, hypotheses)))
