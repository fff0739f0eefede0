"""The zero-shot expert's labels and prototype sentences, and its softmax temperature."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")

# Generic prototypes, four per label, written from the label's meaning only: the label word,
# near-synonyms, and one short appraisal ("this is ..."); neutral is described as a plain,
# factual account. No concrete scenarios, so nothing here echoes a sentence of an evaluation set.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "joy": (
        "I feel happy.",
        "I feel joyful and cheerful.",
        "I am delighted and pleased.",
        "This is great news and I am excited.",
    ),
    "sadness": (
        "I feel sad.",
        "I feel unhappy and sorrowful.",
        "I am depressed and gloomy.",
        "This is a loss and I am grieving.",
    ),
    "anger": (
        "I feel angry.",
        "I am annoyed and enraged.",
        "I am mad and resentful.",
        "This is outrageous and I am hostile.",
    ),
    "fear": (
        "I feel afraid.",
        "I am frightened and fearful.",
        "I feel anxious and nervous.",
        "This is dangerous and I am alarmed.",
    ),
    "surprise": (
        "I feel surprised.",
        "I am astonished and amazed.",
        "This is unexpected and sudden.",
        "I am startled and shocked.",
    ),
    "disgust": (
        "I feel disgusted.",
        "I am repulsed and nauseated.",
        "This is gross and distasteful.",
        "I find this repugnant and vile.",
    ),
    "neutral": (
        "Today I did a few ordinary things.",
        "It was a normal day with the usual routine.",
        "This is simply information, a factual update.",
        "I am just describing what happened.",
    ),
}

# Softmax temperature for cosine similarities: 0.05 is the usual contrastive-embedding scale
# (label-to-label similarity gaps are ~0.05-0.15, so this gives confident but not one-hot output).
TEMPERATURE = 0.05
