"""Find a model folder from what a config names: a local folder, an installed
package's data (``pkg:module/sub/dir``), or a hub id (HF cache, then download).

Every failure becomes one ``ModelNotFoundError`` line: what was looked for,
where, and how to get it.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from streamemo.errors import ModelNotFoundError

_TRUTHY = {"1", "true", "yes", "on"}


def hub_offline() -> bool:
    """Offline mode, as huggingface_hub understands it (HF_HUB_OFFLINE=1)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY


# "name" or "org/name": anything else (./x, ../x, /x, a/b/c) is meant as a folder.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model_dir(
    spec: str,
    *,
    what: str,
    option: str,
    required: tuple[str, ...] = (),
    weights: tuple[str, ...] = (),
    allow_patterns: list[str] | None = None,
) -> Path:
    """Return a local folder holding the model that ``spec`` names.

    ``what`` names the model in messages ("audio-emotion model"), ``option``
    the config key a user can set instead (``audio.model``), ``required`` the
    files that must be in the folder, ``weights`` files of which one must be.
    """
    if not spec:
        raise ModelNotFoundError(f"no {what} configured: set -o {option}=HUB_ID_OR_FOLDER")
    if spec.startswith("pkg:"):
        folder = _package_dir(spec, what=what, option=option)
    else:
        path = Path(spec).expanduser()
        if path.is_dir():
            folder = path
        elif path.exists():
            raise ModelNotFoundError(
                f"{what} {spec!r} is a file, not a folder: point -o {option}=DIR at the folder "
                f"holding {', '.join(required) or 'the model'}"
            )
        elif not _HUB_ID.match(spec):
            raise ModelNotFoundError(
                f"{what} folder {spec!r} does not exist: point -o {option}=DIR at a folder "
                f"holding {', '.join(required) or 'the model'}"
            )
        else:
            folder = _hub_snapshot(spec, what=what, option=option, allow_patterns=allow_patterns)
    missing = [name for name in required if not (folder / name).exists()]
    if weights and not any((folder / name).is_file() for name in weights):
        missing.append(f"its weights ({' or '.join(weights)})")
    if missing:
        raise ModelNotFoundError(
            f"{what} folder {str(folder)!r} lacks {', '.join(missing)}: "
            f"point -o {option}=DIR at a complete model folder"
        )
    return folder


def package_dir(module: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it (some
    packages' imports are slow: nrclex's pulls in TextBlob); None when it is not there."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _package_dir(spec: str, *, what: str, option: str) -> Path:
    module, _, sub = spec[len("pkg:") :].partition("/")
    root = package_dir(module)
    if root is None:
        dist = module.replace("_", "-")
        raise ModelNotFoundError(
            f"{what} {spec!r} needs the Python package {module!r}: "
            f"pip install {dist}  (or set -o {option}=DIR)"
        )
    folder = root / sub
    if not folder.is_dir():
        raise ModelNotFoundError(
            f"{what} {spec!r}: package {module!r} has no folder {sub!r}; "
            f"reinstall it or set -o {option}=DIR"
        )
    return folder


# hub snapshots already found, by (repo id, patterns, offline): the start-up check finds
# the model and the load that follows reuses the folder instead of asking the hub again
_found: dict[tuple[str, tuple[str, ...], bool], Path] = {}


def _hub_snapshot(
    repo_id: str, *, what: str, option: str, allow_patterns: list[str] | None
) -> Path:
    key = (repo_id, tuple(allow_patterns or ()), hub_offline())
    if (folder := _found.get(key)) is not None and folder.is_dir():
        return folder
    folder = _download(repo_id, what=what, option=option, allow_patterns=allow_patterns)
    _found[key] = folder
    return folder


def _download(repo_id: str, *, what: str, option: str, allow_patterns: list[str] | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        return Path(
            snapshot_download(
                repo_id, local_files_only=hub_offline(), allow_patterns=allow_patterns
            )
        )
    except HFValidationError:
        raise ModelNotFoundError(
            f"{what} {repo_id!r} is neither a folder nor a valid hub id: "
            f"set -o {option}=DIR or a hub id like org/name"
        ) from None
    except Exception as exc:  # network down, repo missing, gated...: all one story for a user
        from huggingface_hub import constants

        mode = "offline mode (HF_HUB_OFFLINE=1)" if hub_offline() else "the hub is unreachable"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = reason if len(reason) <= 120 else reason[:119] + "…"
        raise ModelNotFoundError(
            f"{what} {repo_id!r} not found: not a local folder, not in the HF cache "
            f"({constants.HF_HUB_CACHE}) and {mode} ({reason}); "
            f"get it with `hf download {repo_id}` or set -o {option}=DIR"
        ) from None
