"""``streamemo diary serve``: the dashboard's diary view in real headless Chromium, and the
server's HTTP side (loopback only, 404 JSON, read only, bad input at start-up).

Screenshots go to test-artifacts/ (git-ignored)."""

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest

from streamemo.diary.charts import COLOURS
from tests.conftest import REPO, run_cli
from tests.diary_data import write_diary
from tests.ws_helpers import ARTIFACTS, chromium_page, need_chromium

DAY = datetime(2026, 3, 2, 20, 15)
DAYS = {
    DAY: [("joy", 4.0, "We walked along the river and laughed a lot."),
          ("joy", 3.0, "The sun came out in the afternoon.", "sadness")],
    DAY + timedelta(days=1, hours=-12): [("neutral", 3.0, "A quiet morning at the desk.")],
    DAY + timedelta(days=1): [("sadness", 5.0, "I miss my grandmother."),
                              ("fear", 2.0, "The results come on Friday.")],
    DAY + timedelta(days=3): [("anger", 3.0, "The train was late <again> & nobody said why."),
                              ("joy", 2.0, "<img src=x onerror=alert(1)> made me smile")],
}  # fmt: skip

# pixels of the diary chart drawn in a label's colour
COLOUR_PIXELS = """(hex) => {
  const c = document.getElementById("diary-chart");
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (want.every((v, k) => Math.abs(data[i + k] - v) <= 6) && data[i + 3] > 250) n++;
  }
  return n;
}"""


class DiaryServe:
    """`streamemo diary serve --port 0` in a child process; its URL from its first line."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamemo", "diary", "serve", "--port", "0", *args],
            cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        ready.wait(60)
        found = re.search(r"the diary on (http://[^/]+)/#diary", "".join(self.lines))
        if not found:
            self.stop()
            raise AssertionError("diary serve did not start:\n" + "".join(self.lines))
        self.base = found.group(1)

    def _read(self, ready: threading.Event) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            ready.set()
        ready.set()

    def get(self, path: str, **headers: str) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def stop(self, signum: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = write_diary(tmp_path_factory.mktemp("diary") / "diary.db", DAYS)
    server = DiaryServe("--db", str(db))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(pw, served, tmp_path_factory):
    with chromium_page(pw, tmp_path_factory.mktemp("chromium")) as page:
        page.goto(served.base + "/#diary")
        page.wait_for_function("() => window.streamemoDiary && window.streamemoDiary.ready")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "diary-view.png"), full_page=True)
        yield page


def test_the_page_lists_the_days_and_their_entries_newest_first(page):
    days = page.eval_on_selector_all("#diary-days .day h3", "els => els.map(e => e.textContent)")
    assert days == ["Thu 5 Mar 2026", "Tue 3 Mar 2026", "Mon 2 Mar 2026"]
    times = page.eval_on_selector_all(
        "#diary-days .day",
        "els => els.map(d => [...d.querySelectorAll('.when')].map(e => e.textContent))",
    )
    assert times == [["20:15"], ["20:15", "08:15"], ["20:15"]]
    assert page.is_hidden("#live-view") and page.is_hidden("#conn")  # no live socket here
    assert page.title() == "streamemo · diary"
    assert page.errors == []
    assert (ARTIFACTS / "diary-view.png").stat().st_size > 20_000


def test_the_chart_draws_each_emotion_of_the_diary(page):
    chart = page.eval_on_selector("#diary-chart", "c => ({...c.dataset})")
    assert chart == {"periods": "3", "bars": "6"}  # 3 days; 1 + 3 + 2 labels
    for label in ("joy", "sadness", "anger", "fear", "neutral"):
        assert page.evaluate(COLOUR_PIXELS, COLOURS[label]) > 300, label
    for label in ("surprise", "disgust"):  # never said: not drawn
        assert page.evaluate(COLOUR_PIXELS, COLOURS[label]) == 0, label
    legend = page.eval_on_selector_all("#diary-legend span", "els => els.map(e => e.textContent)")
    assert legend[0] == "joy 41%" and "sadness 23%" in legend, legend  # of 22 s


def test_clicking_an_entry_shows_its_utterances_with_text_and_voice(page):
    page.click("#diary-days .day[data-day='2026-03-02'] button.entry")
    page.wait_for_selector("#diary-utterances[data-entry='1']")
    rows = page.eval_on_selector_all(
        "#diary-utterances .utt",
        """rows => rows.map(r => ({
            time: r.querySelector('.time').textContent,
            fused: r.querySelector('.chip').textContent,
            text: r.querySelector('.text').textContent,
            textTop: r.querySelector('.side-text .bar .name').textContent,
            voiceTop: r.querySelector('.side-voice .bar .name').textContent,
            disagree: r.querySelector('.disagree')?.textContent ?? null,
        }))""",
    )
    assert rows == [
        {"time": "0:00–0:04", "fused": "joy 0.70",
         "text": "“We walked along the river and laughed a lot.”",
         "textTop": "joy", "voiceTop": "HAPPY", "disagree": None},
        {"time": "0:05–0:08", "fused": "joy 0.70",
         "text": "“The sun came out in the afternoon.”",
         "textTop": "joy", "voiceTop": "SAD", "disagree": "text joy ≠ voice SAD"},
    ]  # fmt: skip
    assert "Mon 2 Mar 2026, 20:15" in page.text_content("#diary-entry-title")
    page.screenshot(path=str(ARTIFACTS / "diary-entry.png"), full_page=True)


def test_diary_text_is_shown_as_text_never_as_markup(page):
    page.click("#diary-days .day[data-day='2026-03-05'] button.entry")
    page.wait_for_selector("#diary-utterances[data-entry='4']")
    texts = page.eval_on_selector_all(
        "#diary-utterances .text", "els => els.map(e => e.textContent)"
    )
    assert texts[1] == "“<img src=x onerror=alert(1)> made me smile”"
    assert "<again> &" in texts[0]
    assert page.eval_on_selector_all("#diary-view img", "els => els.length") == 0
    assert page.errors == []


def test_an_empty_diary_says_so(pw, tmp_path):
    from streamemo.diary.store import Diary

    Diary(tmp_path / "empty.db").close()
    server = DiaryServe("--db", str(tmp_path / "empty.db"))
    try:
        with chromium_page(pw, tmp_path / "chromium") as page:
            page.goto(server.base + "/")
            page.wait_for_function("() => window.streamemoDiary && window.streamemoDiary.ready")
            assert "Your diary is empty" in page.text_content("#diary-days")
            assert "streamemo diary record" in page.text_content("#diary-days")
            assert page.is_hidden("#diary-chart-panel") and page.errors == []
    finally:
        assert server.stop() == 0


def _listening(port: int) -> list[str]:
    """The local addresses listening on ``port`` (Linux's /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_the_api_is_loopback_only_read_only_and_answers_json(served):
    port = int(served.base.rsplit(":", 1)[1])
    if not __import__("os").path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux's /proc/net/tcp")
    assert _listening(port) == ["0100007F"]  # 127.0.0.1, nothing else
    status, headers, body = served.get("/api/diary/entries/99")
    assert status == 404 and headers["Content-Type"].startswith("application/json")
    assert "no diary entry 99" in json.loads(body)["error"]
    assert served.get("/api/diary/entries/x")[0] == 404
    status, _, body = served.get("/api/diary/days?since=yesterday")
    assert status == 400 and "is not a date" in json.loads(body)["error"]
    status, _, body = served.get("/api/diary/entries/1")
    assert status == 200 and len(json.loads(body)["utterances"]) == 2
    overview = json.loads(served.get("/api/diary")[2])
    assert overview == {
        "name": "diary.db",
        "entries": 4,
        "first": "2026-03-02",
        "last": "2026-03-05",
    }
    assert served.get("/api/diary", Host="evil.example:80")[0] == 403  # DNS rebinding
    post = urllib.request.Request(served.base + "/api/diary", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(post, timeout=10)
    assert refused.value.code == 405
    status, headers, _ = served.get("/")
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]


def test_sigterm_ends_it_cleanly(tmp_path):
    db = write_diary(tmp_path / "diary.db", {DAY: DAYS[DAY]})
    server = DiaryServe("--db", str(db))
    assert server.get("/api/diary")[0] == 200
    assert server.stop(signal.SIGTERM) == 0
    assert server.lines[-1] == "streamemo: diary serve stopped\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "{text}"], "is not a streamemo diary"),
        (["--db", "{missing}"], "no diary at"),
        (["--db", "{db}", "--host", "0.0.0.0"], "--host '0.0.0.0' is not a loopback address"),
        (["--db", "{db}", "--port", "{busy}"], "address in use; pick another with --port"),
    ],
)
def test_bad_input_at_start_is_one_line_and_exit_2(tmp_path, args, message):
    text = tmp_path / "notes.txt"
    text.write_text("not a diary\n")
    db = write_diary(tmp_path / "diary.db", {DAY: DAYS[DAY]})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        fill = {"text": text, "missing": tmp_path / "none.db", "db": db,
                "busy": busy.getsockname()[1]}  # fmt: skip
        started = time.monotonic()
        result = run_cli("diary", "serve", *[a.format(**fill) for a in args], timeout=60)
    assert result.returncode == 2 and time.monotonic() - started < 30
    (line,) = result.stderr.splitlines()
    assert line.startswith("streamemo: error: ") and message in line, line
    assert text.read_text() == "not a diary\n" and not (tmp_path / "none.db").exists()


def test_the_docs_screenshot_is_remade_by_its_script_small(tmp_path):
    need_chromium()
    from PIL import Image

    committed = REPO / "docs" / "diary-view.png"
    assert committed.stat().st_size < 300_000 and Image.open(committed).size == (1280, 1000)
    out = tmp_path / "diary-view.png"
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "screenshots.py"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size < 300_000 and Image.open(out).size == (1280, 1000)
    assert Image.open(out).mode == "P"  # 256 colours: small enough to commit
