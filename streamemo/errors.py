"""Errors a user can act on. The CLI prints them as one line, never a traceback."""


class StreamemoError(Exception):
    """A problem with input, configuration or environment that the user can fix."""


class ConfigError(StreamemoError):
    """A bad configuration key or value."""


class ModelNotFoundError(StreamemoError):
    """A model was looked for and not found; the message says where and how to get it."""


class InputError(StreamemoError):
    """An input file or stream that cannot be read."""


class PreflightError(StreamemoError):
    """Everything the start-up checks found wrong, in one message (still one line)."""

    def __init__(self, problems: list[str]):
        self.problems = list(dict.fromkeys(problems))  # the same problem twice is said once
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            numbered = " ".join(f"({i}) {p}" for i, p in enumerate(self.problems, 1))
            message = f"{len(self.problems)} problems: {numbered}"
        super().__init__(message)
