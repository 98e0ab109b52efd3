"""A local HTTP server that speaks enough of the Hugging Face Hub protocol for
``huggingface_hub`` 2.x (see ../shared/FACTS.md): repo info, recursive tree listing,
HEAD/GET on ``resolve`` with ETag and Range. Tests serve tiny models from it.

Misbehaviours are switched on per repo or per file: gated (401 without a token),
a connection dropped after N bytes (once), a slow file (for cancel tests), a corrupted
payload, and tree listings that advertise hostile file names.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class HubFile:
    data: bytes
    drop_after: int | None = None  # close the connection after this many bytes (once)
    delay: float = 0.0  # seconds to sleep per 64 KiB block sent
    served_corrupt: bool = False  # flip a byte in what is sent (listing keeps the real hash)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_oid(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()


@dataclass
class HubRepo:
    repo_id: str
    files: dict[str, HubFile]
    sha: str = ""
    gated: bool = False  # 401 GatedRepo unless an Authorization header is sent
    extra_listing: list[str] = field(default_factory=list)  # names listed but not served

    def __post_init__(self):
        if not self.sha:
            self.sha = hashlib.sha1("\0".join([self.repo_id, *sorted(self.files)]).encode()).hexdigest()


class LocalHub:
    """``with LocalHub() as hub: hub.add_repo(...); snapshot_download(..., endpoint=hub.url)``"""

    def __init__(self):
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.bytes_sent = 0
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_HEAD(self):
                hub._handle(self, head=True)

            def do_GET(self):
                hub._handle(self, head=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ---------------------------------------------------------------- setup
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_repo(self, repo_id: str, files: dict[str, bytes | Path | HubFile], **kwargs) -> HubRepo:
        converted = {}
        for name, value in files.items():
            if isinstance(value, Path):
                value = value.read_bytes()
            converted[name] = value if isinstance(value, HubFile) else HubFile(value)
        repo = HubRepo(repo_id, converted, **kwargs)
        self.repos[repo_id] = repo
        return repo

    def add_folder(self, repo_id: str, folder: Path, skip=(), **kwargs) -> HubRepo:
        files = {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip
        }
        return self.add_repo(repo_id, files, **kwargs)

    def start(self) -> LocalHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------------- serving
    def _error(self, h, status: int, code: str | None, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        h.send_response(status)
        if code:
            h.send_header("X-Error-Code", code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _json(self, h, payload) -> None:
        body = json.dumps(payload).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _find_repo(self, parts: list[str], marker: str) -> tuple[HubRepo | None, str, list[str]]:
        """parts = path segments after the prefix; repo ids have one or two segments."""
        for n in (2, 1):
            if len(parts) > n and parts[n] == marker:
                repo_id = "/".join(parts[:n])
                return self.repos.get(repo_id), repo_id, parts[n + 1 :]
        return None, "", []

    def _check_access(self, h, repo: HubRepo | None) -> bool:
        if repo is None:
            self._error(h, 404, "RepoNotFound", "Repository not found")
            return False
        if repo.gated and not h.headers.get("Authorization"):
            self._error(h, 401, "GatedRepo", "Access to this model is restricted. You must be authenticated.")
            return False
        return True

    def _handle(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        split = urlsplit(h.path)
        path = split.path
        with self._lock:
            self.requests.append((h.command, path))
        try:
            if path.startswith("/api/models/"):
                parts = [unquote(p) for p in path[len("/api/models/") :].split("/")]
                for marker in ("revision", "tree"):
                    repo, repo_id, rest = self._find_repo(parts, marker)
                    if repo_id:
                        break
                if not repo_id:  # GET /api/models/{repo}: info of the default branch
                    marker, repo_id, rest = "revision", "/".join(parts), ["main"]
                    repo = self.repos.get(repo_id)
                if not self._check_access(h, repo):
                    return None
                rev = "/".join(rest)
                if rev not in ("main", repo.sha):
                    return self._error(h, 404, "RevisionNotFound", f"Invalid rev id: {rev}")
                if marker == "revision":
                    return self._json(h, {"id": repo.repo_id, "sha": repo.sha, "private": False,
                                          "gated": "manual" if repo.gated else False,
                                          "siblings": [{"rfilename": n} for n in [*repo.files, *repo.extra_listing]]})
                entries = []
                for name, f in repo.files.items():
                    entry = {"type": "file", "path": name, "size": len(f.data), "oid": f.git_oid}
                    if len(f.data) > 1000:
                        entry["lfs"] = {"oid": f.sha256, "size": len(f.data), "pointerSize": 134}
                    entries.append(entry)
                for name in repo.extra_listing:
                    entries.append({"type": "file", "path": name, "size": 10, "oid": "0" * 40})
                return self._json(h, entries)

            parts = [unquote(p) for p in path.lstrip("/").split("/")]
            repo, repo_id, rest = self._find_repo(parts, "resolve")
            if not repo_id:
                return self._error(h, 404, "RepoNotFound", "Repository not found")
            if not self._check_access(h, repo):
                return None
            if not rest or rest[0] not in ("main", repo.sha):
                return self._error(h, 404, "RevisionNotFound", "Invalid rev id")
            name = "/".join(rest[1:])
            f = repo.files.get(name)
            if f is None:
                return self._error(h, 404, "EntryNotFound", f"{name} does not exist")
            self._send_file(h, repo, f, head)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_file(self, h, repo: HubRepo, f: HubFile, head: bool) -> None:
        data = f.data
        if f.served_corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and not head:
            start = int(rng[len("bytes=") :].split("-")[0] or 0)
        body = data[start:]
        h.send_response(206 if start else 200)
        etag = f.sha256 if len(f.data) > 1000 else f.git_oid
        h.send_header("ETag", f'"{etag}"')
        h.send_header("X-Repo-Commit", repo.sha)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(data) if head else len(body)))
        h.send_header("Accept-Ranges", "bytes")
        if start:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.end_headers()
        if head:
            return
        block = 64 * 1024
        sent = 0
        drop = f.drop_after
        for offset in range(0, len(body), block):
            chunk = body[offset : offset + block]
            if drop is not None and start + sent + len(chunk) > drop:
                chunk = chunk[: max(0, drop - start - sent)]
                h.wfile.write(chunk)
                h.wfile.flush()
                f.drop_after = None  # only once
                h.close_connection = True
                import socket

                h.connection.shutdown(socket.SHUT_RDWR)
                return
            h.wfile.write(chunk)
            sent += len(chunk)
            with self._lock:
                self.bytes_sent += len(chunk)
            if f.delay:
                h.wfile.flush()
                time.sleep(f.delay)
