"""Errors a user can act on. The CLI prints them as one line, never a traceback."""


class StreamemoError(Exception):
    """A problem with input, configuration or environment that the user can fix."""


class ConfigError(StreamemoError):
    """A bad configuration key or value."""


class ModelNotFoundError(StreamemoError):
    """A model was looked for and not found; the message says where and how to get it."""


class InputError(StreamemoError):
    """An input file or stream that cannot be read."""
