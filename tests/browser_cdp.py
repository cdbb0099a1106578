"""Drive headless Chromium through the DevTools protocol over a pipe (no extra package).

``--remote-debugging-pipe`` makes Chromium read protocol messages from file
descriptor 3 and write its answers and events to descriptor 4, each message a
JSON text ended by a NUL byte: what Playwright and Puppeteer use, in a hundred
lines of the standard library. A page can be loaded, scripts evaluated in it,
screenshots taken, every network request recorded and downloads saved.

Chromium runs with ``--host-resolver-rules`` mapping every host name but
127.0.0.1 to nowhere, so a page that tried to reach the Internet would fail
even on a machine that has a network.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for headless Chromium on a machine without network: without the
#: background-networking ones it keeps trying to reach Google's hosts.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class BrowserError(RuntimeError):
    """The browser answered a command with an error, or not at all."""


class Chromium:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, profile: Path, width: int = 1400, height: int = 1000) -> None:
        self.profile = profile
        self.size = (width, height)
        self.events: list[dict[str, Any]] = []
        self._answers: dict[int, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._next_id = 0
        self.session: str | None = None

    def __enter__(self) -> Chromium:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        # bash (dash takes one-digit descriptors only) moves the pipe ends to 3 and 4.
        wiring = f'exec "$@" 3<&{to_browser_read} 4>&{from_browser_write}'
        self.process = subprocess.Popen(
            [
                "/bin/bash",
                "-c",
                wiring,
                "sh",
                str(CHROMIUM),
                *HEADLESS_FLAGS,
                "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                f"--window-size={self.size[0]},{self.size[1]}",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, browser=True
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BrowserError):
            self.send("Browser.close", browser=True, timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self._to_browser)
        self._reader.join(
            timeout=5
        )  # the reader closes its descriptor itself, never reused under it

    def _read(self) -> None:
        """Collects answers and events until Chromium closes its end; then closes ours."""
        buffer = b""
        try:
            self._read_until_closed(buffer)
        finally:
            os.close(self._from_browser)

    def _read_until_closed(self, buffer: bytes) -> None:
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._changed:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append(message)
                self._changed.notify_all()

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        browser: bool = False,
        timeout: float = 30,
    ) -> dict[str, Any]:
        """A protocol command to the page's session (or to the browser itself); its result."""
        with self._changed:
            self._next_id += 1
            ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if not browser:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._changed:
            while ident not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise BrowserError(f"no answer to {method}")
                self._changed.wait(left)
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Polls a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression!r}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def requested_urls(self) -> list[str]:
        with self._changed:
            return [
                e["params"]["request"]["url"]
                for e in self.events
                if e.get("method") == "Network.requestWillBeSent"
            ]

    def console_problems(self) -> list[str]:
        """Errors and warnings the page logged (CSP violations among them)."""
        problems = []
        with self._changed:
            for event in self.events:
                if event.get("method") == "Log.entryAdded":
                    entry = event["params"]["entry"]
                    if entry["level"] in ("error", "warning"):
                        problems.append(f"{entry.get('source')}: {entry['text']}")
                elif event.get("method") == "Runtime.exceptionThrown":
                    problems.append(f"exception: {event['params']['exceptionDetails']}")
        return problems

    def allow_downloads(self, folder: Path) -> None:
        self.send(
            "Browser.setDownloadBehavior",
            {"behavior": "allowAndName", "downloadPath": str(folder), "eventsEnabled": True},
            browser=True,
        )

    def wait_for_download(self, folder: Path, timeout: float = 30) -> tuple[str, bytes]:
        """The suggested file name and the content of the next finished download."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                names = {
                    e["params"]["guid"]: e["params"]["suggestedFilename"]
                    for e in self.events
                    if e.get("method") == "Browser.downloadWillBegin"
                }
                for event in self.events:
                    params = event.get("params", {})
                    if (
                        event.get("method") == "Browser.downloadProgress"
                        and params.get("state") == "completed"
                    ):
                        guid = params["guid"]
                        return names.get(guid, guid), (folder / guid).read_bytes()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError("no download finished")
                self._changed.wait(left)
