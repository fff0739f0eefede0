"""``streamemo diary serve``: the diary in the browser, on this machine only."""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading

from streamemo.diary.commands.listing import open_diary
from streamemo.diary.store import DiaryError

PORT = 8766  # streamemo serve's is 8765: both can run at once


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    serve = actions.add_parser(
        "serve",
        help="the diary in your browser: entries by day, the mood chart, each utterance",
        description="Serve the dashboard on its diary view, read only, on this machine: "
        "entries by day, the mood chart, and each entry's utterances with text and voice "
        "emotion side by side. Ctrl-C (or SIGTERM) ends it.",
        epilog="Only a loopback address is accepted (the diary is private); to look from "
        "another machine, tunnel the port (ssh -L 8766:127.0.0.1:8766 HOST).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=PORT, help=f"port (default {PORT}; 0: any free one)"
    )
    serve.add_argument("--open", action="store_true", help="open it in the web browser")
    serve.set_defaults(diary_run=serve_diary)
    return [serve]


def serve_diary(args: argparse.Namespace) -> int:
    from streamemo.serving.gate import is_loopback  # here: websockets is slow to import

    if not is_loopback(args.host):
        raise DiaryError(
            f"--host {args.host!r} is not a loopback address: diary serve shows your diary "
            "to whoever reaches it, so it listens on this machine only (127.0.0.1 or ::1); "
            "tunnel the port to look from elsewhere"
        )
    from streamemo.diary.web import DiaryServer

    with open_diary(args) as diary:  # not a diary: one line before the port is taken
        try:
            server = DiaryServer(diary, args.host, args.port)
        except OSError as exc:
            reason = {errno.EADDRINUSE: "address in use", errno.EACCES: "permission denied"}
            raise DiaryError(
                f"cannot listen on {args.host}:{args.port}: "
                f"{reason.get(exc.errno, exc.strerror or str(exc))}; pick another with --port"
            ) from None
        stop = threading.Event()
        previous = {s: signal.signal(s, lambda *_: stop.set()) for s in _SIGNALS}
        thread = threading.Thread(target=server.serve_forever, name="diary-web", daemon=True)
        thread.start()
        try:
            url = server.url("/#diary")
            print(f"streamemo: the diary on {url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
            if args.open:
                import webbrowser

                webbrowser.open(url)
            while not stop.wait(0.5):
                pass
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            server.shutdown()
            server.server_close()
            thread.join(5)
    print("streamemo: diary serve stopped", file=sys.stderr)
    return 0


_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
