"""A ClickHouse-compatible HTTP endpoint over chDB, for tests.

No ClickHouse server can be installed on these machines, but clickhouse-connect's HTTP client is
what otelite talks to a real ClickHouse with. This serves the part of ClickHouse's HTTP interface
that clickhouse-connect 1.12 uses (its connect-time probes, ``/ping``, queries in the body or in
``query=``, ``param_*`` and settings as URL parameters, ``Content-Encoding`` request bodies,
``INSERT ... FORMAT x`` with the data in the body, ``X-ClickHouse-*`` headers, errors as
``Code: N. DB::Exception: ...`` with ClickHouse's HTTP statuses, Basic / ``X-ClickHouse-User``
authentication) over one chDB path, so tests run the real client code path end to end.

Each request runs on its own chDB connection to the one path: chDB keeps ``SET`` and ``USE`` per
connection, so per-request settings and the database cannot leak into the next request, and
connections on one path may run in parallel threads.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hmac
import json
import os
import re
import socket
import sys
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import chdb
import lz4.frame
from chdb.session import Session

try:  # the zstd clickhouse-connect itself uses
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd  # type: ignore[no-redef]

__all__ = ["ClickHouseHTTP"]

# URL parameters ClickHouse's HTTP handler does not treat as settings (HTTPHandler.cpp).
_NOT_SETTINGS = frozenset(
    {
        "query",
        "database",
        "default_format",
        "compress",
        "decompress",
        "user",
        "password",
        "quota_key",
        "query_id",
        "stacktrace",
        "buffer_size",
        "wait_end_of_query",
        "session_id",
        "session_timeout",
        "session_check",
        "client_protocol_version",
        "close_session",
        "role",
    }
)

# ClickHouse's exceptionCodeToHTTPStatus (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp); 500 else.
_STATUS_BY_NAME: dict[str, int] = {}
for _status, _names in (
    (401, "REQUIRED_PASSWORD"),
    (403, "UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE ACCESS_DENIED"),
    (
        400,
        """BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE
        CANNOT_PARSE_QUOTED_STRING CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER
        CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6
        CANNOT_PARSE_INPUT_ASSERTION_FAILED CANNOT_PARSE_UUID DUPLICATE_COLUMN ILLEGAL_COLUMN
        UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE THERE_IS_NO_COLUMN TOO_DEEP_AST TOO_BIG_AST
        UNEXPECTED_AST_STRUCTURE SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH
        VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE""",
    ),
    (
        404,
        """UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE
        UNKNOWN_DATABASE UNKNOWN_SETTING UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION
        UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE""",
    ),
    (413, "QUERY_IS_TOO_LARGE"),
    (501, "NOT_IMPLEMENTED"),
    (503, "SOCKET_TIMEOUT CANNOT_OPEN_FILE CANNOT_SCHEDULE_TASK"),
    (411, "HTTP_LENGTH_REQUIRED"),
    (408, "TIMEOUT_EXCEEDED"),
    (415, "UNSUPPORTED_MEDIA_TYPE"),
):
    _STATUS_BY_NAME.update(dict.fromkeys(_names.split(), _status))

_CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8",
    "CSVWithNames": "text/csv; charset=UTF-8",
    "JSON": "application/json; charset=UTF-8",
    "JSONCompact": "application/json; charset=UTF-8",
    "JSONEachRow": "application/x-ndjson; charset=UTF-8",
}
_BINARY_FORMATS = frozenset({"Native", "Arrow", "ArrowStream", "Parquet", "RowBinary", "ORC"})

_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`"
# `INSERT INTO t (cols) [SETTINGS ...] FORMAT f`; the data follows (ClickHouse's ParserInsertQuery).
_INSERT_FORMAT = re.compile(
    rf"\A\s*(INSERT\s+INTO\s(?:[^'\"`]|{_QUOTED})*?)\s+FORMAT\s+(\w+)".encode(),
    re.IGNORECASE | re.DOTALL,
)
_INSERT = re.compile(r"\A\s*INSERT\b", re.IGNORECASE)
_SELECT_OR_VALUES = re.compile(r"\b(?:SELECT|VALUES|WITH)\b", re.IGNORECASE)
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*(?:SETTINGS\b[^;]*)?;?\s*\Z", re.IGNORECASE)
_RESULT_STATEMENT = re.compile(
    r"\A(?:\s|\(|--[^\n]*\n|/\*.*?\*/)*"
    r"(?:SELECT|WITH|SHOW|DESC|DESCRIBE|EXISTS|EXPLAIN|CHECK|VALUES)\b",
    re.IGNORECASE | re.DOTALL,
)
_EXCEPTION_CODE = re.compile(r"Code: (\d+)\. ")


class _Error(Exception):
    """An answer ``Code: N. DB::Exception: ...`` with ClickHouse's status for N.

    ``text`` is chDB's whole exception text, or a bare message the answer completes.
    """

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass
class _Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Request:
    """What one HTTP request asks for, after the body is decoded."""

    method: str
    params: dict[str, str]
    headers: Message
    body: bytes
    query: bytes = b""


class ClickHouseHTTP:
    """ClickHouse's HTTP interface over one chDB path, served from a thread of the test process.

    ``session_or_path`` is a ``chdb.session.Session`` the caller owns (kept open after
    :meth:`stop`) or a directory for a session the server opens at :meth:`start` and closes at
    :meth:`stop`; chDB allows one path per process at a time.
    """

    def __init__(
        self,
        session_or_path: Session | str | os.PathLike[str],
        *,
        user: str = "default",
        password: str = "",
    ) -> None:
        self._given = session_or_path
        self.user = user
        self.password = password
        self.requests: list[str] = []
        self._session: Session | None = None
        self._conn_str = ""
        self._version = ""
        self._timezone = "UTC"
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._failures: list[tuple[int, str]] = []
        self._drops = 0

    def start(self) -> None:
        """Open the session (if given a path) and serve on 127.0.0.1 on a free port."""
        if self._httpd is not None:
            raise RuntimeError("already started")
        if isinstance(self._given, Session):
            self._session = self._given
        else:
            self._session = Session(os.fspath(self._given))
        # chDB 4.4 has no public accessor for the path a Session was opened with.
        self._conn_str = getattr(self._session, "_conn_str", None) or self._session._path
        conn = chdb.connect(self._conn_str)
        try:
            row = conn.query("SELECT version(), timezone()", "TabSeparated").bytes()
        finally:
            conn.close()
        self._version, self._timezone = row.decode().rstrip("\n").split("\t")
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="clickhouse-http", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("not started")
        return int(self._httpd.server_address[1])

    def url(self, database: str) -> str:
        """A DSN clickhouse-connect's ``get_client(dsn=...)`` accepts."""
        user, password = quote(self.user, safe=""), quote(self.password, safe="")
        return f"clickhouse://{user}:{password}@127.0.0.1:{self.port}/{quote(database, safe='')}"

    def stop(self) -> None:
        """Stop serving, end open keep-alive connections and close a session the server opened."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()  # joins the request threads
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._session is not None and self._session is not self._given:
            self._session.close()
        self._session = None

    def __enter__(self) -> ClickHouseHTTP:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def fail_next(self, n: int = 1, *, code: int = 999, message: str = "injected") -> None:
        """Answer the next ``n`` query requests (not ``/ping``) with this error, unexecuted."""
        with self._lock:
            self._failures.extend([(code, message)] * n)

    def recover(self) -> None:
        """Forget the failures ``fail_next`` has not answered yet: the server is back."""
        with self._lock:
            self._failures.clear()

    def drop_next_insert(self, n: int = 1) -> None:
        """Execute the next ``n`` INSERTs, then close each connection without an answer.

        clickhouse-connect 1.12 resends an insert once when the server closes the connection
        before answering if it can rebuild the body: ``insert()`` (Native) is resent, so it
        takes two drops to make it raise; ``insert_arrow()`` (a ``pyarrow.Buffer`` body) is
        not, so one drop makes it raise ``OperationalError``.
        """
        with self._lock:
            self._drops += n

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, request: _Request, path: str) -> _Answer | None:
        """The answer to one request, or None to drop the connection without one."""
        if path == "/ping" or (path == "/" and request.method == "GET" and not request.params):
            return _Answer(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
        if path != "/":
            return _Answer(404, f"There is no handle {path}\n".encode())
        try:
            self._authenticate(request)
            self._decode(request)
            return self._execute(request)
        except _Error as error:
            return self._error_answer(error)
        except Exception as exc:  # a bug here: answer it rather than drop the connection
            return self._error_answer(_Error(1001, f"{type(exc).__name__}: {exc}"))

    def _decode(self, request: _Request) -> None:
        """Decompress the body and split off multipart fields; sets ``request.query``."""
        for name in ("compress", "decompress"):  # ClickHouse's own block compression
            if request.params.get(name, "0").lower() not in ("0", "false"):
                raise _Error(48, f"{name}=1 is not supported by this test server")
        encoding = (request.headers.get("Content-Encoding") or "").strip().lower()
        request.body = _decompress(request.body, encoding)
        content_type = request.headers.get("Content-Type") or ""
        query = request.params.pop("query", "")
        if content_type.startswith("multipart/form-data"):
            # Form fields are parameters like the URL's; ClickHouse then ignores the body.
            form = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
            )
            for part in form.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if part.get_filename() is not None or not isinstance(name, str):
                    raise _Error(48, "External data is not supported by this test server")
                payload = part.get_payload(decode=True)
                value = payload.decode() if isinstance(payload, bytes) else ""
                if name == "query":
                    query += value
                else:
                    request.params[name] = value
            request.query, request.body = query.encode(), b""
        else:
            # "the entire query consists of the 'query' parameter, a line break and the body"
            request.query = (query + "\n").encode() + request.body if query else request.body

    def _authenticate(self, request: _Request) -> None:
        """Check credentials the ways ClickHouse takes them: headers, Basic auth, URL params."""
        headers, params = request.headers, request.params
        header_user = headers.get("X-ClickHouse-User") or ""
        header_key = headers.get("X-ClickHouse-Key") or ""
        authorization = headers.get("Authorization") or ""
        in_params = "user" in params or "password" in params
        if header_user or header_key:
            if authorization or in_params:
                raise _Error(516, "Invalid authentication: it is not allowed to mix schemes")
            user, password = header_user or "default", header_key
        elif authorization:
            if in_params:
                raise _Error(516, "Invalid authentication: it is not allowed to mix schemes")
            scheme, _, info = authorization.partition(" ")
            if scheme.lower() != "basic":
                raise _Error(
                    516, f"Invalid authentication: '{scheme}' HTTP Authorization is not supported"
                )
            try:
                user, _, password = base64.b64decode(info.strip()).decode().partition(":")
            except ValueError:
                raise _Error(516, "Invalid authentication: malformed Basic credentials") from None
        else:
            user, password = params.get("user", "default"), params.get("password", "")
        if not (
            hmac.compare_digest(user.encode(), self.user.encode())
            and hmac.compare_digest(password.encode(), self.password.encode())
        ):
            raise _Error(
                516,
                f"{user}: Authentication failed: password is incorrect, "
                "or there is no user with such name",
            )

    def _execute(self, request: _Request) -> _Answer | None:
        """Run the request's one statement on a fresh chDB connection with its settings."""
        params, headers = request.params, request.headers
        insert = _INSERT_FORMAT.match(request.query)
        if insert is not None and _SELECT_OR_VALUES.search(
            re.sub(_QUOTED, "", insert.group(1).decode(errors="replace"))
        ):
            insert = None  # `INSERT ... SELECT format FROM ...`: a query, not data
        if insert is not None:
            statement = insert.group(0).decode(errors="replace").strip()
            head, fmt = insert.group(1).decode(errors="replace"), insert.group(2).decode()
            data = _insert_data(request.query, insert.end())
            sql = ""
        else:
            statement = sql = request.query.decode(errors="replace")
        self.requests.append(statement)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            drop = self._drops > 0 and (insert is not None or bool(_INSERT.match(sql)))
            if drop:
                self._drops -= 1
        if failure is not None:
            raise _Error(*failure)
        if not statement.strip():
            raise _Error(62, "Empty query")

        database = headers.get("X-ClickHouse-Database") or params.get("database", "")
        settings = [(k, v) for k, v in params.items() if _is_setting(k)]
        if request.method == "GET":  # ClickHouse allows only read-only queries over GET
            settings.insert(0, ("readonly", "2"))
        query_params = {k[len("param_") :]: v for k, v in params.items() if k.startswith("param_")}
        trailing = None if insert is not None else _TRAILING_FORMAT.search(sql)
        out_format = (
            trailing.group(1)
            if trailing
            else headers.get("X-ClickHouse-Format") or params.get("default_format", "TabSeparated")
        )

        conn = chdb.connect(self._conn_str)
        try:
            if database:
                conn.query(f"USE {_quote_identifier(database)}")
            for name, value in settings:
                conn.query(f"SET {name} = {_quote_string(value)}")
            if insert is not None:
                with conn.send_insert(head, fmt) as inserter:
                    if data:
                        inserter.append(data)
                    done = inserter.finish()
                summary = {"written_rows": done.rows_written, "written_bytes": done.bytes_written}
                elapsed, body = done.elapsed, b""
            else:
                result = conn.query(sql, out_format, params=query_params)
                body = result.bytes()
                summary = {
                    "read_rows": result.rows_read(),
                    "read_bytes": result.bytes_read(),
                    "written_rows": result.rows_written(),
                    "written_bytes": result.bytes_written(),
                    "result_bytes": len(body),
                }
                elapsed = result.elapsed()
        except RuntimeError as exc:  # chdb.ChdbError and the streaming inserter's RuntimeError
            if drop:
                return None
            raise self._chdb_error(exc) from None
        finally:
            conn.close()
        if drop:
            return None

        summary["elapsed_ns"] = int(elapsed * 1e9)
        answer_headers = {
            "X-ClickHouse-Query-Id": params.get("query_id")
            or headers.get("X-ClickHouse-Query-Id")
            or str(uuid.uuid4()),
            "X-ClickHouse-Timezone": dict(settings).get("session_timezone") or self._timezone,
            "X-ClickHouse-Summary": json.dumps({k: str(v) for k, v in summary.items()}),
            "Content-Type": "text/plain; charset=UTF-8",
        }
        if insert is None and (trailing or _RESULT_STATEMENT.match(sql)):
            # clickhouse-connect's command() tells "empty result" from "no result" by this header
            answer_headers["X-ClickHouse-Format"] = out_format
            answer_headers["Content-Type"] = _content_type(out_format)
            compression = _response_compression(
                headers.get("Accept-Encoding") or "", dict(settings).get("enable_http_compression")
            )
            if compression is not None:
                body = _compress(body, compression)
                answer_headers["Content-Encoding"] = compression
        return _Answer(200, body, answer_headers)

    def _chdb_error(self, exc: Exception) -> _Error:
        """chDB's exception text, from ``Code: N.`` on, as ClickHouse's HTTP handler sends it."""
        text = str(exc).strip()
        found = _EXCEPTION_CODE.search(text)
        if found is None:
            return _Error(1001, text)
        text = text[found.start() :]
        if "(version " not in text:
            text = f"{text} (version {self._version})"
        return _Error(int(found.group(1)), text)

    def _error_answer(self, error: _Error) -> _Answer:
        name = _error_name(self._conn_str, error.code)
        text = error.text
        if not text.startswith("Code: "):
            text = f"Code: {error.code}. DB::Exception: {text}. ({name}) (version {self._version})"
        status = _STATUS_BY_NAME.get(name, 500)
        headers = {
            "X-ClickHouse-Exception-Code": str(error.code),
            "Content-Type": "text/plain; charset=UTF-8",
        }
        return _Answer(status, (text + "\n").encode(), headers)


@cache
def _error_name(conn_str: str, code: int) -> str:
    """ClickHouse's name for an error code (``UNKNOWN_TABLE``): it picks the HTTP status."""
    conn = chdb.connect(conn_str)
    try:
        return conn.query(f"SELECT errorCodeToName({int(code)})", "TSVRaw").bytes().decode().strip()
    except RuntimeError:
        return ""
    finally:
        conn.close()


def _is_setting(name: str) -> bool:
    if name in _NOT_SETTINGS or name.startswith("param_") or not name:
        return False
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise _Error(115, f"Unknown setting '{name}'")
    return True


def _quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _insert_data(text: bytes, end: int) -> bytes:
    """The data after ``FORMAT name``: after the newline, or after the blanks if there is none."""
    while end < len(text) and text[end] in b" \t\f":
        end += 1
    if text[end : end + 1] == b"\r":
        end += 1
    if text[end : end + 1] == b"\n":
        end += 1
    return text[end:]


def _content_type(fmt: str) -> str:
    if fmt in _BINARY_FORMATS:
        return "application/octet-stream"
    return _CONTENT_TYPES.get(fmt, "text/plain; charset=UTF-8")


def _response_compression(accept: str, enabled: str | None) -> str | None:
    """ClickHouse compresses only with ``enable_http_compression=1``, preferring zstd, then lz4."""
    if not accept or (enabled or "0").lower() not in ("1", "true"):
        return None
    return next((name for name in ("zstd", "lz4", "gzip", "deflate") if name in accept), None)


def _compress(body: bytes, encoding: str) -> bytes:
    compressors: dict[str, Callable[[bytes], bytes]] = {
        "zstd": zstd.compress,
        "lz4": lz4.frame.compress,
        "gzip": gzip.compress,
        "deflate": zlib.compress,
    }
    return compressors[encoding](body)


def _decompress(body: bytes, encoding: str) -> bytes:
    """Undo a request's ``Content-Encoding``; clickhouse-connect sends one frame per block."""
    if encoding in ("", "identity", "none"):
        return body
    try:
        if encoding == "lz4":
            out, rest = [], body
            while rest:
                decompressor = lz4.frame.LZ4FrameDecompressor()
                out.append(decompressor.decompress(rest))
                rest = decompressor.unused_data
            return b"".join(out)
        if encoding == "zstd":
            return zstd.decompress(body)  # all frames
        if encoding == "gzip":
            return gzip.decompress(body)  # all members
        if encoding == "deflate":
            return zlib.decompress(body)
    except (RuntimeError, OSError, EOFError, zlib.error, zstd.ZstdError) as exc:
        raise _Error(354, f"Cannot decompress the {encoding} request body: {exc}") from None
    raise _Error(
        48,
        f"Unknown compression method '{encoding}'. "
        "This test server supports 'gzip', 'deflate', 'zstd' and 'lz4'",
    )


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that can end its keep-alive connections when it stops."""

    daemon_threads = False  # server_close() joins the request threads
    block_on_close = True

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], app: ClickHouseHTTP
    ) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (as clickhouse-connect does on retries) is no error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Wake handlers blocked on idle keep-alive connections so they finish."""
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clickhouse-connect's pool expects
    # headers and body in one write, without Nagle: else delayed ACKs cost 40 ms a request
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        request = _Request(self.command, params, self.headers, body)
        answer = self.server.app._answer(request, split.path)
        if answer is None:  # a dropped connection: no status line, no headers
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb-http")
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _read_body(self) -> bytes:
        """The request body, from Content-Length or chunked transfer encoding (generators)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""
