"""Headless Chromium driven over the DevTools protocol (a WebSocket, with aiohttp): open a
page, read its DOM with JavaScript, click, save downloads, take screenshots, and see every
request the page made with its status."""

from __future__ import annotations

__all__ = ["Browser", "chromium"]

import asyncio
import base64
import itertools
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp


class Browser:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, downloads: Path) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._session: str | None = None
        self.downloads = downloads
        self.responses: list[tuple[str, int]] = []  # (url, status) of every response seen
        self.console: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            doc = json.loads(message.data)
            if "id" in doc and doc["id"] in self._waiting:
                self._waiting.pop(doc["id"]).set_result(doc)
            elif doc.get("method") == "Network.responseReceived":
                r = doc["params"]["response"]
                self.responses.append((r["url"], r["status"]))
            elif doc.get("method") == "Runtime.consoleAPICalled":
                args = doc["params"]["args"]
                self.console.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in args)
                )
            elif doc.get("method") == "Runtime.exceptionThrown":
                self.console.append(json.dumps(doc["params"]["exceptionDetails"])[:500])

    async def send(
        self, method: str, params: dict[str, Any] | None = None, *, page: bool = True
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        doc: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if page and self._session is not None:
            doc["sessionId"] = self._session
        await self._ws.send_str(json.dumps(doc))
        answer = await asyncio.wait_for(future, 20)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def open_tab(self) -> None:
        target = await self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )
        self._session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            await self.send(f"{domain}.enable")
        await self.send(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(self.downloads)},
            page=False,
        )
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})

    async def js(self, expression: str) -> Any:
        answer = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(json.dumps(answer["exceptionDetails"])[:500])
        return answer["result"].get("value")

    async def wait_for(self, expression: str, within: float = 10) -> Any:
        """Until `expression` is truthy in the page; its value."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            try:
                value = await self.js(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                body = await self.js("document.body ? document.body.innerText : ''")
                raise AssertionError(
                    f"never true: {expression}\nconsole: {self.console}\n"
                    f"responses: {self.responses}\npage: {body}"
                )
            await asyncio.sleep(0.1)

    async def screenshot(self, path: Path) -> None:
        shot = await self.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


async def _until(check: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("Chromium's DevTools never answered")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def chromium(downloads: Path) -> AsyncIterator[Browser]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise FileNotFoundError("chromium is not installed (apt-get install -y chromium)")
    profile = Path(tempfile.mkdtemp(prefix="lucia-chromium-"))
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"

    async def written() -> bool:
        return port_file.exists() and len(port_file.read_text().splitlines()) >= 2

    try:
        await _until(written, 30)
        port, path = port_file.read_text().splitlines()[:2]
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=64 * 1024 * 1024) as ws,
        ):
            browser = Browser(ws, downloads)
            try:
                await browser.open_tab()
                yield browser
            finally:
                await browser.close()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        shutil.rmtree(profile, ignore_errors=True)
