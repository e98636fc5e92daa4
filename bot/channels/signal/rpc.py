"""A small client for the signal-cli daemon's HTTP interface: JSON-RPC calls and the
event stream (shapes: bot.channels.signal)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

METHOD_NOT_FOUND = -32601
USER_ERROR = -1
IO_ERROR = -3
UNTRUSTED_KEY_ERROR = -4
RATELIMIT_ERROR = -5
CALL_TIMEOUT = 30.0
# The daemon writes a keep-alive every 15 s; a stream silent for longer is dead.
STREAM_SILENCE = 45.0


class DaemonUnreachable(Exception):
    """The request did not reach the daemon (refused, reset, 5xx): safe to try again."""


class AnswerLost(Exception):
    """The request left but no answer came: it may have been carried out."""


class RpcError(Exception):
    """The daemon answered with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data

    @property
    def results(self) -> list[dict[str, Any]]:
        """The per-recipient results a failed send carries in `data.response`."""
        response = self.data.get("response") if isinstance(self.data, dict) else None
        results = response.get("results") if isinstance(response, dict) else None
        return [item for item in results or [] if isinstance(item, dict)]


class SignalDaemon:
    """One account on one daemon. `multi_account` is learnt from the daemon (`detect`)."""

    def __init__(
        self, url: str, account: str | None, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.account = account
        self.multi_account = False
        self.detected = False
        self._client = client or httpx.AsyncClient(timeout=CALL_TIMEOUT)
        self._ids = itertools.count(1)

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def detect(self) -> None:
        """Single- or multi-account daemon: `listAccounts` only exists in the latter."""
        try:
            accounts = await self._request("listAccounts", {})
        except RpcError as error:
            if error.code != METHOD_NOT_FOUND:
                raise
            self.multi_account = False
            self.detected = True
            return
        self.multi_account = True
        numbers = [a.get("number") for a in accounts or [] if isinstance(a, dict)]
        if self.account is None or self.account not in numbers:
            raise RpcError(USER_ERROR, "the daemon serves several accounts: set the bot's one")
        self.detected = True

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Call a method for our account; returns its result. The first call learns the
        daemon's mode (a send may come before the event reader asked)."""
        if not self.detected:
            await self.detect()
        if self.multi_account:
            params = {**params, "account": self.account}
        return await self._request(method, params)

    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        try:
            response = await self._client.post(f"{self.url}/api/v1/rpc", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise DaemonUnreachable(type(error).__name__) from None
        except httpx.HTTPError as error:
            raise AnswerLost(type(error).__name__) from None
        if response.status_code >= 500:
            raise DaemonUnreachable(f"HTTP {response.status_code}")
        if response.status_code == 201:
            return None  # a notification's answer; we always send an id
        try:
            answer = response.json()
        except ValueError:
            raise RpcError(-32700, f"HTTP {response.status_code}, not JSON") from None
        if not isinstance(answer, dict):
            raise RpcError(-32700, "not a JSON-RPC response")
        failure = answer.get("error")
        if isinstance(failure, dict):
            code = failure.get("code")
            raise RpcError(
                code if isinstance(code, int) else -32603,
                str(failure.get("message") or ""),
                failure.get("data"),
            )
        return answer.get("result")

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The daemon's incoming messages, one `{"account", "envelope"}` object each, until
        the stream ends; raises DaemonUnreachable when it cannot be opened."""
        query = {"account": self.account} if self.multi_account and self.account else None
        timeout = httpx.Timeout(CALL_TIMEOUT, read=STREAM_SILENCE)
        try:
            async with self._client.stream(
                "GET", f"{self.url}/api/v1/events", params=query, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    raise DaemonUnreachable(f"HTTP {response.status_code}")
                async for data in _sse_data(response.aiter_lines()):
                    event = _receive_params(data)
                    if event is not None:
                        yield event
        except httpx.HTTPError as error:
            raise DaemonUnreachable(type(error).__name__) from None


async def _sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data of each `receive` event (Server-Sent Events: fields until a blank line;
    `:` lines are comments)."""
    event, data = "", list[str]()
    async for line in lines:
        if not line:
            if data and event in ("", "receive"):
                yield "\n".join(data)
            event, data = "", list[str]()
            continue
        if line.startswith(":"):
            continue
        field, _sep, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)


def _receive_params(data: str) -> dict[str, Any] | None:
    """`{"account", "envelope"}` from an event's data, also when it comes wrapped as a
    JSON-RPC `receive` notification; None for anything else."""
    try:
        found = json.loads(data)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    if found.get("method") == "receive" and isinstance(found.get("params"), dict):
        found = found["params"]
        if isinstance(found.get("result"), dict):  # a subscription's wrapping
            found = found["result"]
    return found if isinstance(found.get("envelope"), dict) else None
