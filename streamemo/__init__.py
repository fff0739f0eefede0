"""streamemo: real-time emotion analysis of speech, as a pluggy pipeline.

Plugin authors: everything is in ``streamemo.api`` (the guide: docs/plugins/), and the
test helpers in ``streamemo.testing``. ``streamemo.hookimpl`` stays for older plugins.
"""

from streamemo.hookspecs import hookimpl

__all__ = ["hookimpl"]
__version__ = "0.1.0"
