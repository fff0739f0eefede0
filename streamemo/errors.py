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


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` on one line: the first line of the message, shortened. Some
    libraries raise pages of advice (torch.load's errors run to ten lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = lines[0] if lines else ""
    if len(reason) > limit:
        reason = reason[: limit - 1] + "…"
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
