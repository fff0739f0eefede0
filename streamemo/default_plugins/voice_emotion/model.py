"""The seed's voice-emotion network and its features, defined here so that
loading a checkpoint reads only a state dict and runs no downloaded code."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# the seed's features: librosa's MFCC, computed by streamemo.default_plugins.voice_emotion.mfcc
from streamemo.default_plugins.voice_emotion.mfcc import N_MFCC, mfcc, mfcc_many

__all__ = [
    "N_MFCC",
    "WINDOW_FRAMES",
    "TodaiNet",
    "mfcc",
    "mfcc_many",
    "window_starts",
    "windows",
]

WINDOW_FRAMES = 100  # one window: 100 MFCC frames, about 3.2 s at 16 kHz


class TodaiNet(nn.Module):
    """Conv1d+BN x2 -> BiLSTM -> dense, over (batch, 13, 100) delta-MFCC windows."""

    def __init__(self, num_labels: int = 6):
        super().__init__()
        self.conv1 = nn.Conv1d(N_MFCC, 64, kernel_size=5, padding="same")
        self.bn1 = nn.BatchNorm1d(64)
        self.conv2 = nn.Conv1d(64, 128, kernel_size=3, padding="same")
        self.bn2 = nn.BatchNorm1d(128)
        self.pool = nn.MaxPool1d(2)
        self.bilstm = nn.LSTM(128, 64, batch_first=True, bidirectional=True)
        self.dense1 = nn.Linear(128, 128)
        self.dense2 = nn.Linear(128, num_labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        _, (h_n, _) = self.bilstm(x.permute(0, 2, 1))
        x = torch.cat((h_n[-2], h_n[-1]), dim=1)
        return self.dense2(torch.relu(self.dense1(x)))


def window_starts(frames: int, hop: int) -> list[int]:
    """Window starts covering every frame: 0, hop, 2*hop... and a last window flush with the end."""
    if frames <= WINDOW_FRAMES:
        return [0]
    last = frames - WINDOW_FRAMES
    starts = list(range(0, last + 1, hop))
    if starts[-1] != last:
        starts.append(last)
    return starts


def windows(features: np.ndarray, hop: int) -> np.ndarray:
    """(n, 100, 13) windows; a short utterance is zero-padded at the end, as the seed does."""
    if len(features) < WINDOW_FRAMES:
        padded = np.zeros((WINDOW_FRAMES, features.shape[1]), dtype=features.dtype)
        padded[: len(features)] = features
        features = padded
    return np.stack([features[s : s + WINDOW_FRAMES] for s in window_starts(len(features), hop)])
