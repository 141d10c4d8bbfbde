"""A loopback HTTP server speaking the Anthropic Messages, OpenAI Chat Completions and OpenAI
Responses wire formats, driven by a script of behaviours.

The real SDK clients talk to it over TCP, so retries, timeouts, cancellation and parsing are
exercised for real. Every request is recorded (path, headers, raw body) so tests can compare
request bytes and check where the key appears.

    with FakeLLMServer(answer("MOVE: e4"), http_error(500)) as server:
        provider = make_provider("openai", "gpt-5", server.openai_url, ...)

Each request takes the next scripted behaviour; when the script is empty the `default`
behaviour (or responder, a function of the request) answers; with neither it answers 400.

Like a real server, an answer stops at the request's answer limit (`max_tokens`,
`max_completion_tokens`, `max_output_tokens`; tokens counted as characters / 4) with the
API's "cut off" stop reason. Two modes make it behave like servers seen in the wild:

    FakeLLMServer(..., context=4096, context_style="vllm" | "llama.cpp")
        a model with a 4096-token context: a prompt plus answer limit past it is refused with
        HTTP 400 in that server's words (vLLM and OpenAI: "This model's maximum context length
        is 4096 tokens. However, you requested 4200 tokens ..."; llama.cpp: a prompt past it,
        `exceed_context_size_error`); without a limit an answer runs until the context is full
    FakeLLMServer(..., proxy=True)
        an Anthropic-format proxy (LiteLLM in front of a local model) that answers 500 to a
        system prompt sent as content blocks
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import chess


@dataclass(frozen=True)
class Behaviour:
    """What the server does for one request."""

    kind: str
    """answer | status | hang | empty | garbage | empty_choices"""
    text: str = ""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    """Seconds to wait before answering (a disconnect during the wait is recorded)."""
    input_tokens: int | None = None
    """Total prompt tokens, cached ones included (None: estimated from the request)."""
    output_tokens: int | None = None
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    thinking: str = ""
    """Anthropic thinking block text / OpenAI reasoning item, sent before the answer."""
    model: str | None = None
    message: str = ""
    """Error message for `status` behaviours."""
    content_type: str = "application/json"


def answer(
    text: str,
    *,
    delay: float = 0.0,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    cached_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    thinking: str = "",
    model: str | None = None,
) -> Behaviour:
    """A successful answer with `text`."""
    return Behaviour(
        "answer",
        text=text,
        delay=delay,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=cached_tokens,
        cache_write_tokens=cache_write_tokens,
        reasoning_tokens=reasoning_tokens,
        thinking=thinking,
        model=model,
    )


def http_error(
    status: int, *, retry_after: str | None = None, message: str = "fake failure"
) -> Behaviour:
    """An HTTP error in the provider's error format, optionally with a `retry-after` header."""
    headers = (("retry-after", retry_after),) if retry_after is not None else ()
    return Behaviour("status", status=status, headers=headers, message=message)


def hang(seconds: float = 30.0) -> Behaviour:
    """Reads the request, then says nothing for `seconds` and closes the connection."""
    return Behaviour("hang", delay=seconds)


def empty_body() -> Behaviour:
    """200 with a JSON content type and no body."""
    return Behaviour("empty")


def garbage(content_type: str = "application/json") -> Behaviour:
    """200 with a body that is not JSON."""
    return Behaviour("garbage", content_type=content_type)


def empty_choices() -> Behaviour:
    """A well-formed answer with no content (no choices / no content blocks / no output)."""
    return Behaviour("empty_choices")


def ramble(*, then: str = "", delay: float = 0.0) -> Behaviour:
    """A model that thinks aloud without end (about 25,000 tokens) before saying `then`: only
    an answer limit, or the context running out, stops it."""
    text = "Let me think about this position very carefully once more. " * 1600
    return answer(text + then, delay=delay)


CHARS_PER_TOKEN = 4
"""The fake's tokenizer: a token is four characters."""


def prompt_tokens(request: Recorded) -> int:
    """The prompt's size in tokens, as the fake counts them (every string in the body)."""
    return len(request.text) // CHARS_PER_TOKEN


def answer_limit(body: Mapping[str, Any]) -> int | None:
    """The answer limit a request sets, in any of the three APIs."""
    for name in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def sent_key(request: Recorded) -> str:
    """The API key a request carried (`authorization: Bearer` or `x-api-key`)."""
    bearer = request.headers.get("authorization", "")
    return request.headers.get("x-api-key") or bearer.removeprefix("Bearer ").strip()


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    index: int
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased header names."""
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """Every string in the JSON body, joined (system, messages, instructions...)."""
        return "\n".join(_strings(self.json))


@dataclass(frozen=True)
class Disconnect:
    """The client closed the connection while the server was still working on a request."""

    index: int
    path: str
    at: float


Responder = Callable[[Recorded], Behaviour]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


_FEN = re.compile(r"FEN:\s*([^\n]+)")


def fen_in(text: str) -> str | None:
    """The first `FEN: ...` in a prompt."""
    match = _FEN.search(text)
    return match.group(1).strip().strip("`") if match else None


def chess_responder(
    choose: Mapping[str, str] | None = None,
    *,
    delay: float = 0.0,
    guess_delay: float | None = None,
) -> Responder:
    """Answers a legal move for the FEN in the prompt: `choose[fen]` if given, else the first
    legal move in UCI order (as SAN), after `delay` seconds. Prompts that ask for `"moves"`
    (speculators) get JSON with the first three legal moves, after `guess_delay` (default
    `delay`)."""

    def respond(request: Recorded) -> Behaviour:
        text = request.text
        fen = fen_in(text)
        if fen is None:
            return answer("I see no position.", delay=delay)
        board = chess.Board(fen)
        moves = sorted(board.legal_moves, key=lambda m: m.uci())
        if '"moves"' in text:
            probs = [0.5, 0.3, 0.2]
            guesses = [
                {"move": board.san(m), "p": p} for m, p in zip(moves[:3], probs, strict=False)
            ]
            wait = delay if guess_delay is None else guess_delay
            return answer(json.dumps({"moves": guesses}), delay=wait)
        san = (choose or {}).get(fen) or (board.san(moves[0]) if moves else "none")
        return answer(f"Thinking about {len(moves)} moves.\nMOVE: {san}", delay=delay)

    return respond


@dataclass
class _State:
    script: deque[Behaviour]
    default: Behaviour | Responder | None
    context: int | None = None
    context_style: str = "vllm"
    proxy: bool = False
    refused: list[int] = field(default_factory=list)
    """Indexes of requests refused by a server mode (context or proxy)."""
    requests: list[Recorded] = field(default_factory=list)
    disconnects: list[Disconnect] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    disconnected: threading.Event = field(default_factory=threading.Event)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients closing connections (cancelled calls) are normal here, not errors."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `requests` instead."""

    def do_GET(self) -> None:
        self._send(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        with state.lock:
            index = len(state.requests)
            recorded = Recorded(
                index,
                "POST",
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                time.monotonic(),
            )
            state.requests.append(recorded)
            refusal = self._refusal(recorded)
            behaviour: Behaviour | Responder | None = None
            if refusal is None:
                behaviour = state.script.popleft() if state.script else state.default
            else:
                state.refused.append(index)
        if refusal is not None:
            status, payload = refusal
            self._send(status, payload)
            return
        if behaviour is None:
            self._send_error(400, "fake server: script exhausted")
            return
        if not isinstance(behaviour, Behaviour):
            try:
                behaviour = behaviour(recorded)
            except Exception as exc:  # a broken responder must fail the test visibly
                self._send_error(400, f"fake server responder failed: {exc!r}")
                return
        self._perform(recorded, behaviour)

    # -- server modes -------------------------------------------------------------------------

    def _refusal(self, request: Recorded) -> tuple[int, Any] | None:
        """What a proxy or a context-limited server refuses before any model runs."""
        state = self.server.state
        try:
            body = request.json
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        anthropic = self.path.endswith("/messages")
        if state.proxy and anthropic and isinstance(body.get("system"), list):
            message = (
                "litellm.InternalServerError: AnthropicException - cannot read system prompt "
                "content blocks"
            )
            return 500, {"type": "error", "error": {"type": "api_error", "message": message}}
        if state.context is None:
            return None
        prompt = prompt_tokens(request)
        limit = answer_limit(body)
        ctx = state.context
        if anthropic and prompt + (limit or 0) > ctx:
            message = f"prompt is too long: {prompt + (limit or 0)} tokens > {ctx} maximum"
            error = {"type": "invalid_request_error", "message": message}
            return 400, {"type": "error", "error": error}
        if state.context_style == "llama.cpp":
            if prompt < ctx:
                return None
            message = (
                f"the request exceeds the available context size ({prompt} tokens > {ctx} "
                "tokens), try increasing it"
            )
            return 400, {
                "error": {"code": 400, "message": message, "type": "exceed_context_size_error"}
            }
        requested = prompt + (limit or 0)
        if requested <= ctx and prompt < ctx:
            return None
        message = (
            f"This model's maximum context length is {ctx} tokens. However, you requested "
            f"{requested} tokens ({prompt} in the messages, {limit or 0} in the completion). "
            "Please reduce the length of the messages or completion."
        )
        # vLLM's body: the error at the top level, not under "error".
        return 400, {
            "object": "error",
            "message": message,
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        }

    def _room(self, request: Recorded) -> int | None:
        """Tokens an answer may have: the request's limit, and what the context leaves."""
        try:
            body = request.json
        except ValueError:
            return None
        limit = answer_limit(body) if isinstance(body, dict) else None
        context = self.server.state.context
        if context is not None:
            left = max(1, context - prompt_tokens(request))
            limit = left if limit is None else min(limit, left)
        return limit

    # -- behaviours ---------------------------------------------------------------------------

    def _perform(self, request: Recorded, b: Behaviour) -> None:
        if b.kind == "hang":
            if not self._wait(request, b.delay):
                self.close_connection = True
            return
        if b.delay and self._wait(request, b.delay):
            return
        if b.kind == "status":
            self._send_error(b.status, b.message or "fake failure", b.headers)
        elif b.kind == "empty":
            self._send_raw(200, b"", "application/json")
        elif b.kind == "garbage":
            self._send_raw(200, b"<html>502 Bad Gateway \x00 not json", b.content_type)
        elif b.kind in ("answer", "empty_choices"):
            self._send(200, self._answer(request, b), b.headers)
        else:
            self._send_error(400, f"fake server: unknown behaviour {b.kind}")

    def _wait(self, request: Recorded, seconds: float) -> bool:
        """Sleeps up to `seconds`; True (and recorded) if the client closed the connection."""
        state = self.server.state
        deadline = time.monotonic() + seconds
        sock = self.connection
        while not state.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([sock], [], [], min(left, 0.01))
            if readable:
                try:
                    data = sock.recv(1, socket.MSG_PEEK)
                except OSError:
                    data = b""
                if not data:
                    with state.lock:
                        state.disconnects.append(
                            Disconnect(request.index, request.path, time.monotonic())
                        )
                    state.disconnected.set()
                    self.close_connection = True
                    return True
        return False

    def _answer(self, request: Recorded, b: Behaviour) -> dict[str, Any]:
        try:
            req = request.json
        except ValueError:
            req = {}
        model = b.model or str(req.get("model", "fake-model"))
        total_in = b.input_tokens if b.input_tokens is not None else max(1, len(request.body) // 4)
        text, cut = b.text, False
        room = self._room(request)
        if room is not None and len(text) > room * CHARS_PER_TOKEN:
            text, cut = text[: room * CHARS_PER_TOKEN], True
        out = b.output_tokens if b.output_tokens is not None else max(1, len(text) // 4)
        if cut:
            out = min(out, room or out)
        n = next(self.server.state.ids)
        empty = b.kind == "empty_choices"
        if self.path.endswith("/messages"):
            content: list[dict[str, Any]] = []
            if b.thinking:
                content.append({"type": "thinking", "thinking": b.thinking, "signature": "sig"})
            content.append({"type": "text", "text": text, "citations": None})
            usage: dict[str, Any] = {
                # Anthropic's input_tokens exclude cache reads and writes.
                "input_tokens": total_in - b.cached_tokens - b.cache_write_tokens,
                "output_tokens": out,
                "cache_read_input_tokens": b.cached_tokens,
                "cache_creation_input_tokens": b.cache_write_tokens,
            }
            if b.reasoning_tokens:
                usage["output_tokens_details"] = {"thinking_tokens": b.reasoning_tokens}
            return {
                "id": f"msg_fake_{n}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [] if empty else content,
                "stop_reason": "max_tokens" if cut else "end_turn",
                "stop_sequence": None,
                "usage": usage,
            }
        if self.path.endswith("/responses"):
            output: list[dict[str, Any]] = []
            if b.thinking or b.reasoning_tokens:
                output.append(
                    {
                        "type": "reasoning",
                        "id": f"rs_{n}",
                        "summary": [{"type": "summary_text", "text": b.thinking}],
                    }
                )
            output.append(
                {
                    "type": "message",
                    "id": f"msg_{n}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            )
            return {
                "id": f"resp_{n}",
                "object": "response",
                "created_at": 0,
                "status": "incomplete" if cut else "completed",
                "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
                "model": model,
                "output": [] if empty else output,
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "usage": {
                    "input_tokens": total_in,
                    "input_tokens_details": {
                        "cached_tokens": b.cached_tokens,
                        "cache_write_tokens": b.cache_write_tokens,
                    },
                    "output_tokens": out,
                    "output_tokens_details": {"reasoning_tokens": b.reasoning_tokens},
                    "total_tokens": total_in + out,
                },
            }
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": []
            if empty
            else [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "length" if cut else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": total_in,
                "completion_tokens": out,
                "total_tokens": total_in + out,
                "prompt_tokens_details": {"cached_tokens": b.cached_tokens},
                "completion_tokens_details": {"reasoning_tokens": b.reasoning_tokens},
            },
        }

    # -- wire ---------------------------------------------------------------------------------

    def _send_error(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        if self.path.endswith("/messages"):
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
            payload: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            payload = {"error": {"message": message, "type": "server_error", "code": None}}
        self._send(status, payload, headers)

    def _send(self, status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()


class FakeLLMServer:
    """A scripted loopback provider on 127.0.0.1 (a free port), served from a thread."""

    def __init__(
        self,
        *script: Behaviour,
        default: Behaviour | Responder | None = None,
        context: int | None = None,
        context_style: str = "vllm",
        proxy: bool = False,
    ) -> None:
        if context_style not in ("vllm", "llama.cpp"):
            raise ValueError(f"context_style {context_style!r}: vllm or llama.cpp")
        self._state = _State(deque(script), default, context, context_style, proxy)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self._state
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def close(self) -> None:
        self._state.stop.set()
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- script and records -------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for the Anthropic SDK (it appends `/v1/messages`)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """Base URL for the OpenAI SDK (it appends `/chat/completions`, `/responses`)."""
        return f"{self.url}/v1"

    @property
    def context(self) -> int | None:
        """The model's context in tokens (None: unlimited)."""
        return self._state.context

    @context.setter
    def context(self, tokens: int | None) -> None:
        with self._state.lock:
            self._state.context = tokens

    def push(self, *behaviours: Behaviour) -> None:
        with self._state.lock:
            self._state.script.extend(behaviours)

    @property
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def refused(self) -> list[int]:
        """Indexes of the requests a server mode refused (past the context; proxy blocks)."""
        with self._state.lock:
            return list(self._state.refused)

    @property
    def disconnects(self) -> list[Disconnect]:
        with self._state.lock:
            return list(self._state.disconnects)

    def wait_disconnect(self, timeout: float) -> bool:
        """Blocks (in the calling thread) until a client closed a pending request."""
        return self._state.disconnected.wait(timeout)

    @property
    def pending(self) -> int:
        """Scripted behaviours not used yet."""
        with self._state.lock:
            return len(self._state.script)
