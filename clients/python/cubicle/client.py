"""The client itself: one HTTP connection's worth of requests per call,
JSON in and out, typed errors (see __init__)."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_KEY_FILE = "/var/lib/cubicle/api-key"


class CubicleError(Exception):
    """An error answer of cubicled: its HTTP status, code and message, and the whole body."""

    def __init__(self, status: int, code: str, message: str, body: Optional[dict] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body or {}


class BadRequest(CubicleError):
    """400: a field missing, of the wrong type or out of range; a point off the screen."""


class Unauthorized(CubicleError):
    """401: no API key, or a wrong one."""


class Forbidden(CubicleError):
    """403: the guest refused (permissions), or a foreign Origin."""


class NotFound(CubicleError):
    """404: no such sandbox, file, program or process."""


class Conflict(CubicleError):
    """409: the sandbox is not running, has no screen; a folder is not empty."""


class SafetyCheckPending(Conflict):
    """409: a model's call waits for a person's answer to its safety checks: `pending`."""

    @property
    def pending(self) -> list:
        return self.body.get("pending_safety_checks") or self.body.get("pending") or []


class PayloadTooLarge(CubicleError):
    """413: a body over max_body, an upload over max_upload."""


class TooManySandboxes(CubicleError):
    """429: max_sandboxes are running, or cubicled is stopping."""


class ServerError(CubicleError):
    """500: a sandbox that could not boot; out of memory."""


class Unavailable(CubicleError):
    """502, 503, 504: the sandbox's monitor or agent failed, busy, or a timeout."""


_BY_STATUS = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
              413: PayloadTooLarge, 429: TooManySandboxes, 500: ServerError}


def _error(status: int, raw: bytes) -> CubicleError:
    try:
        body = json.loads(raw.decode("utf-8"))
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code", "error")
    message = body.get("message", raw.decode("utf-8", "replace")[:500])
    if status == 409 and code in ("safety_check_pending", "safety_confirmation_pending"):
        cls = SafetyCheckPending
    else:
        cls = _BY_STATUS.get(status, Unavailable if status >= 500 else CubicleError)
    return cls(status, code, message, body)


@dataclass
class Command:
    """How a command ended: its exit code (None when killed), signal, output."""
    pid: int
    exit_code: Optional[int]
    signal: Optional[int]
    timed_out: bool
    stdout: str
    stderr: str
    truncated: bool = False


class Cubicle:
    """cubicled at url (else $CUBICLE_URL, else http://127.0.0.1:8080) with an API key
    (key, else $CUBICLE_API_KEY, else the first line of key_file, $CUBICLE_API_KEY_FILE or
    /var/lib/cubicle/api-key)."""

    def __init__(self, url: Optional[str] = None, key: Optional[str] = None,
                 key_file: Optional[str] = None, timeout: float = 600.0):
        self.url = (url or os.environ.get("CUBICLE_URL") or DEFAULT_URL).rstrip("/")
        key = key or os.environ.get("CUBICLE_API_KEY")
        if not key:
            path = key_file or os.environ.get("CUBICLE_API_KEY_FILE") or DEFAULT_KEY_FILE
            try:
                with open(path, encoding="utf-8") as f:
                    key = f.readline().strip()
            except OSError:
                key = None
        self.key = key
        self.timeout = timeout

    # --- HTTP ----------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, query: Optional[dict] = None,
                raw: Optional[bytes] = None, stream: bool = False, timeout: Optional[float] = None):
        """One request: a JSON body (or raw bytes); the answer's JSON (None for 204), its
        bytes when not JSON, or with stream the open response. Raises CubicleError."""
        if query:
            q = {k: ("true" if v is True else "false" if v is False else v)
                 for k, v in query.items() if v is not None}
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(q)
        headers = {"Accept": "application/json"}
        if self.key:
            headers["Authorization"] = "Bearer " + self.key
        data = None
        if raw is not None:
            data = raw
            headers["Content-Type"] = "application/octet-stream"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            raise _error(e.code, e.read()) from None
        if stream:
            return resp
        with resp:
            payload = resp.read()
            kind = resp.headers.get("Content-Type", "")
            if resp.status == 204 or not payload:
                return None
            if kind.startswith("application/json"):
                return json.loads(payload.decode("utf-8"))
            return payload

    # --- sandboxes -------------------------------------------------------------

    def health(self) -> dict:
        return self.request("GET", "/health")

    def create(self, **fields) -> "Sandbox":
        """A new sandbox, once its desktop is ready: template, resolution ("1280x800"),
        vcpus, memory_mib, timeout, keyboard_layout, metadata, env, network, ..."""
        return Sandbox(self, self.request("POST", "/sandboxes", fields, timeout=max(self.timeout, 900)))

    def list(self, **filters) -> List["Sandbox"]:
        """The sandboxes (state=running, metadata.KEY=VALUE filters)."""
        out = self.request("GET", "/sandboxes", query=filters or None)
        return [Sandbox(self, s) for s in out.get("sandboxes", [])]

    def sandbox(self, sandbox_id: str) -> "Sandbox":
        return Sandbox(self, self.request("GET", f"/sandboxes/{_seg(sandbox_id)}"))


def _seg(s: str) -> str:
    return urllib.parse.quote(s, safe="")


Point = Tuple[int, int]


@dataclass
class Sandbox:
    """One sandbox: its id and what cubicled said of it (info)."""
    client: Cubicle
    info: Dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.info["id"]

    def _path(self, rest: str = "") -> str:
        return f"/sandboxes/{_seg(self.id)}{rest}"

    def _req(self, method, rest, body=None, **kw):
        return self.client.request(method, self._path(rest), body, **kw)

    # --- lifecycle ---

    def refresh(self) -> "Sandbox":
        self.info = self._req("GET", "")
        return self

    def kill(self) -> None:
        self._req("DELETE", "")

    def set_timeout(self, seconds: int) -> "Sandbox":
        self.info = self._req("POST", "/timeout", {"timeout": seconds})
        return self

    def activity(self, after: Optional[int] = None) -> list:
        return self._req("GET", "/activity", query={"after": after}).get("entries", [])

    # --- the screen and the hands ---

    def screenshot(self, format: str = "png", scale: Optional[float] = None,
                   width: Optional[int] = None, quality: Optional[int] = None,
                   region: Optional[Sequence[int]] = None) -> bytes:
        """The screen's image bytes (PNG or JPEG), optionally downscaled or a region."""
        return self._req("GET", "/screenshot", query={
            "format": format, "scale": scale, "width": width, "quality": quality,
            "region": ",".join(map(str, region)) if region else None})

    def actions(self, actions: List[dict], scale: Optional[float] = None,
                screenshot: Union[bool, dict] = False) -> dict:
        """A batch of actions (docs/control-protocol.md), checked whole before any runs:
        {"results": [...]} and, when asked, the screenshot after it."""
        body: Dict[str, Any] = {"actions": actions}
        if scale is not None:
            body["scale"] = scale
        if screenshot:
            body["screenshot"] = screenshot
        return self._req("POST", "/actions", body)

    def click(self, x: Optional[int] = None, y: Optional[int] = None, button: str = "left",
              count: int = 1, modifiers: Optional[str] = None) -> dict:
        a: Dict[str, Any] = {"type": "click", "button": button, "count": count}
        if x is not None:
            a.update(x=x, y=y)
        if modifiers:
            a["modifiers"] = modifiers
        return self.actions([a])

    def move(self, x: int, y: int) -> dict:
        return self.actions([{"type": "move", "x": x, "y": y}])

    def drag(self, path: Sequence[Point], button: str = "left") -> dict:
        return self.actions([{"type": "drag", "path": [list(p) for p in path], "button": button}])

    def scroll(self, direction: str = "down", amount: int = 1, x: Optional[int] = None,
               y: Optional[int] = None) -> dict:
        a: Dict[str, Any] = {"type": "scroll", "direction": direction, "amount": amount}
        if x is not None:
            a.update(x=x, y=y)
        return self.actions([a])

    def type(self, text: str) -> dict:
        """Types text exactly, on the sandbox's keyboard layout, any script."""
        return self.actions([{"type": "type", "text": text}])

    def key(self, keys: Union[str, List[str]], repeat: int = 1) -> dict:
        return self.actions([{"type": "key", "keys": keys, "repeat": repeat}])

    def cursor(self) -> Point:
        c = self._req("GET", "/cursor")
        return c["x"], c["y"]

    def display(self) -> dict:
        return self._req("GET", "/display")

    def resize(self, width: int, height: int) -> dict:
        return self._req("POST", "/display", {"width": width, "height": height})

    # --- the models' computer use (docs/agents.md) ---

    def recommended_display(self, model: Optional[str] = None,
                            vendor: Optional[str] = None) -> dict:
        """The screen size a model should be told of, within its vendor's image limits."""
        return self._req("GET", "/computer/display", query={"model": model, "vendor": vendor})

    @staticmethod
    def _display(display: Optional[Tuple[int, int]], extra: Optional[dict] = None) -> dict:
        q = dict(extra or {})
        if display:
            q.update(display_width=display[0], display_height=display[1])
        return q

    def anthropic(self, message: Union[dict, list], toolset: Optional[dict] = None,
                  model: Optional[str] = None,
                  display: Optional[Tuple[int, int]] = None) -> dict:
        """Claude's turn (the assistant message, its content list, or one tool_use block):
        the user message of tool results to append."""
        body = {"content": message} if isinstance(message, list) else dict(message)
        if toolset:
            body["toolset"] = toolset
        return self._req("POST", "/computer/anthropic", body,
                         query=self._display(display, {"model": model}))

    def openai(self, call: dict, acknowledge: Union[None, str, Sequence[str]] = None,
               display: Optional[Tuple[int, int]] = None) -> dict:
        """OpenAI's computer_call item: the computer_call_output item to send back.
        acknowledge: the ids of pending safety checks a person acknowledged, or "all"."""
        if acknowledge is not None and not isinstance(acknowledge, str):
            acknowledge = ",".join(acknowledge)
        return self._req("POST", "/computer/openai", call,
                         query=self._display(display, {"acknowledge": acknowledge}))

    def gemini(self, turn: dict, acknowledge: bool = False) -> dict:
        """Gemini's answer (or candidate, content, part, call): the user content of
        function responses to append. acknowledge: a person confirmed the calls."""
        return self._req("POST", "/computer/gemini", turn,
                         query={"acknowledge": "true" if acknowledge else None})

    # --- commands ---

    def run(self, cmd: Union[str, Sequence[str]], env: Optional[dict] = None,
            cwd: Optional[str] = None, user: Optional[str] = None,
            stdin: Optional[str] = None, timeout_ms: Optional[int] = None) -> Command:
        """Runs cmd (a bash string, or argv) to its end."""
        out = self._req("POST", "/commands", self._command(cmd, env, cwd, user, stdin, timeout_ms))
        return Command(out["pid"], out.get("exit_code"), out.get("signal"),
                       bool(out.get("timed_out")), out.get("stdout", ""), out.get("stderr", ""),
                       bool(out.get("truncated")))

    def stream(self, cmd: Union[str, Sequence[str]], env: Optional[dict] = None,
               cwd: Optional[str] = None, user: Optional[str] = None,
               stdin: Optional[str] = None, timeout_ms: Optional[int] = None) -> Iterator[dict]:
        """Runs cmd and yields its events as they come: {"type": "stdout"|"stderr",
        "data"}, then {"type": "exit", ...} (or {"type": "error", ...})."""
        body = self._command(cmd, env, cwd, user, stdin, timeout_ms)
        body["stream"] = "ndjson"
        with self._req("POST", "/commands", body, stream=True) as resp:
            for line in resp:
                if line.strip():
                    yield json.loads(line.decode("utf-8"))

    @staticmethod
    def _command(cmd, env, cwd, user, stdin, timeout_ms) -> dict:
        body: Dict[str, Any] = {"cmd": cmd} if isinstance(cmd, str) else {"argv": list(cmd)}
        for k, v in (("env", env), ("cwd", cwd), ("user", user), ("stdin", stdin),
                     ("timeout_ms", timeout_ms)):
            if v is not None:
                body[k] = v
        return body

    # --- files ---

    def read(self, path: str) -> bytes:
        data = self._req("GET", "/files", query={"path": path})
        if data is None:
            return b""
        return data if isinstance(data, bytes) else json.dumps(data).encode("utf-8")

    def write(self, path: str, data: Union[bytes, str], mode: Optional[str] = None) -> dict:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self._req("PUT", "/files", query={"path": path, "mode": mode}, raw=data)

    def stat(self, path: str) -> dict:
        return self._req("GET", "/files/stat", query={"path": path})

    def ls(self, path: str, depth: int = 1) -> list:
        return self._req("GET", "/files/list", query={"path": path, "depth": depth})["entries"]

    def mkdir(self, path: str, parents: bool = True) -> None:
        self._req("POST", "/files/mkdir", query={"path": path, "parents": parents})

    def rename(self, src: str, dst: str) -> None:
        self._req("POST", "/files/rename", query={"from": src, "to": dst})

    def remove(self, path: str, recursive: bool = False) -> None:
        self._req("DELETE", "/files", query={"path": path, "recursive": recursive or None})
