"""Fault stand-in: a ``streamemo_event`` observer that raises on every utterance, each
time with a different message (so a report per message would still be one per event)."""

import streamemo


@streamemo.hookimpl
def streamemo_event(event):
    if event.type == "utterance":
        raise ValueError(f"cannot take utterance {event.id}")
