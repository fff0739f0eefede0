"""streamemo: real-time emotion analysis of speech, as a pluggy pipeline."""

from streamemo.hookspecs import hookimpl

__all__ = ["hookimpl"]
__version__ = "0.1.0"
