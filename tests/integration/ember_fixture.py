"""tests/integration/ember_fixture.py: starts the real ember-server for the
integration tests.

EmberServer runs the binary (env EMBER_SERVER, else the build tree's
build/server/ember-server) as a subprocess on 127.0.0.1 with --port 0, a
fresh data_dir, run_dir and unix_socket under one tempfile.mkdtemp(), and a
unique arena --name; extra settings are keyword arguments
(EmberServer(fsync="always") runs `--fsync always`). A thread keeps the
server's output drained (spdlog writes to stdout, config errors go to stderr:
both are read, merged) and keeps it for failure messages. start() returns
when the server logs `listening on tcp 127.0.0.1:PORT` (and its Unix socket);
stop() is SIGTERM and expects exit code 0, kill() is SIGKILL; start() again
restarts with the same data_dir and name. cleanup() removes the temporary
directory and the arena's /dev/shm objects.

Also here: RawConnection, a plain socket speaking RESP by hand for the
tests that need exact bytes (inline commands, protocol errors).
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SERVER = os.path.normpath(
    os.path.join(HERE, "..", "..", "build", "server", "ember-server"))

_LISTEN_TCP = re.compile(r"listening on tcp 127\.0\.0\.1:(\d+)")
_LISTEN_UNIX = re.compile(r"listening on unix (\S+)")
_counter = 0
_counter_lock = threading.Lock()


def server_path():
    return os.environ.get("EMBER_SERVER") or DEFAULT_SERVER


def _die_with_parent():
    """In the child before exec: SIGKILL it when the test process dies (a
    CTest timeout, say), so no server outlives its test."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass  # not Linux: cleanup() still stops servers on a normal exit


def _unique_name():
    global _counter
    with _counter_lock:
        _counter += 1
        return f"it{os.getpid()}_{_counter}"


class EmberServer:
    """One ember-server instance: a name, a temporary directory, a process."""

    START_TIMEOUT_S = 10.0
    STOP_TIMEOUT_S = 30.0

    def __init__(self, arena_bytes="64mb", unix_socket=True, **settings):
        self.binary = server_path()
        if not os.access(self.binary, os.X_OK):
            # A failure, not a skip: CTest must not pass without a server.
            raise FileNotFoundError(
                f"ember-server not found at {self.binary}: build it "
                f"(cmake --build build --target ember-server) or set "
                f"EMBER_SERVER")
        self.name = _unique_name()
        self.root = tempfile.mkdtemp(prefix="ember-it-")
        self.data_dir = os.path.join(self.root, "data")
        self.run_dir = os.path.join(self.root, "run")
        self.unix_socket = (os.path.join(self.root, "ember.sock")
                            if unix_socket else "")
        self.settings = {"arena_bytes": arena_bytes}
        self.settings.update({k: str(v) for k, v in settings.items()})
        self.password = settings.get("requirepass") or None
        self.port = None
        self.proc = None
        self.cwd = None  # the server's working directory; None: the test's
        self._lines = []  # every line the server printed, across restarts
        self._lines_lock = threading.Lock()
        self._drain = None

    # -- lifecycle ---------------------------------------------------------

    def argv(self):
        args = [self.binary, "--bind", "127.0.0.1", "--port", "0",
                "--name", self.name, "--data_dir", self.data_dir,
                "--run_dir", self.run_dir, "--unix_socket", self.unix_socket]
        for key, value in self.settings.items():
            args += [f"--{key}", str(value)]
        return args

    def start(self):
        """Starts (or restarts) the server; returns (port, unix_socket)."""
        assert self.proc is None or self.proc.poll() is not None, \
            "server already running"
        self._log(f"--- start: {' '.join(self.argv())}")
        self.proc = subprocess.Popen(
            self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
            cwd=self.cwd)
        ready = threading.Event()
        state = {"port": None, "unix": not self.unix_socket}

        def drain(proc):
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self._log(line)
                m = _LISTEN_TCP.search(line)
                if m:
                    state["port"] = int(m.group(1))
                if _LISTEN_UNIX.search(line):
                    state["unix"] = True
                if state["port"] is not None and state["unix"]:
                    ready.set()
            proc.stdout.close()
            ready.set()  # EOF: the process has exited (or closed its output)

        self._drain = threading.Thread(target=drain, args=(self.proc,),
                                       daemon=True)
        self._drain.start()
        if not ready.wait(self.START_TIMEOUT_S):
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"ember-server did not log 'listening on tcp' within "
                f"{self.START_TIMEOUT_S} s\n{self.log()}")
        if state["port"] is None or not state["unix"]:
            self.proc.wait(timeout=5)
            self._drain.join(timeout=5)
            raise AssertionError(
                f"ember-server exited with code {self.proc.returncode} "
                f"before listening\n{self.log()}")
        self.port = state["port"]
        return self.port, self.unix_socket

    def terminate(self):
        """SIGTERM and wait; returns the exit code (negative: a signal)."""
        return self._signal_and_wait(signal.SIGTERM)

    def stop(self):
        """SIGTERM, wait, and insist on a clean exit (code 0)."""
        code = self.terminate()
        if code != 0:
            raise AssertionError(
                f"ember-server exited with code {code} after SIGTERM\n"
                f"{self.log()}")

    def kill(self):
        """SIGKILL: the crash the durability tests recover from."""
        self._signal_and_wait(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _signal_and_wait(self, sig):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=self.STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"ember-server did not exit within {self.STOP_TIMEOUT_S} s "
                f"of signal {sig}\n{self.log()}")
        if self._drain is not None:
            self._drain.join(timeout=5)
        self._log(f"--- exited with code {code}")
        return code

    def cleanup(self):
        """Kills a server still running; removes its directory and arena."""
        if self.running():
            self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
        for suffix in ("data",):
            try:
                os.unlink(f"/dev/shm/ember.{self.name}.{suffix}")
            except FileNotFoundError:
                pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # -- the log -----------------------------------------------------------

    def _log(self, line):
        with self._lines_lock:
            self._lines.append(line)

    def log(self):
        with self._lines_lock:
            return "ember-server output:\n" + "\n".join(self._lines)

    # -- clients -----------------------------------------------------------

    def client(self, **kwargs):
        """A redis-py client over TCP (authenticated when the server has
        requirepass, unless password=None is given)."""
        kwargs.setdefault("socket_timeout", 30)
        kwargs.setdefault("password", self.password)
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def unix_client(self, **kwargs):
        """A redis-py client over the Unix socket."""
        kwargs.setdefault("socket_timeout", 30)
        kwargs.setdefault("password", self.password)
        return redis.Redis(unix_socket_path=self.unix_socket, **kwargs)

    def raw(self, timeout=5.0):
        """A RawConnection over TCP."""
        return RawConnection(self.port, timeout)

    def call(self, *args):
        """One command on a fresh raw connection; its reply, unparsed (as
        RedisReference.call, so replies compare as they are)."""
        with self.raw() as c:
            c.command(*args)
            return c.read_reply()

    def ping_ok(self):
        """True when a brand new connection gets PONG (after AUTH when the
        server has requirepass)."""
        with self.raw() as c:
            if self.password:
                c.command("AUTH", self.password)
                if c.read_reply() != b"+OK":
                    return False
            c.send(b"PING\r\n")
            return c.read_reply() == b"+PONG"

    def info(self, section=None):
        c = self.client()
        try:
            return c.info(section) if section else c.info()
        finally:
            c.close()

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0


class EmberTestCase(unittest.TestCase):
    """A TestCase whose assertion failures end with the server's log."""

    server = None  # set by the subclass or its setUpClass

    def _formatMessage(self, msg, standardMsg):
        text = super()._formatMessage(msg, standardMsg)
        if self.server is not None:
            text += "\n" + self.server.log()[-4000:]
        return text


class RawConnection:
    """A TCP connection speaking RESP by hand, for exact request bytes."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def command(self, *args):
        """Sends one multibulk request."""
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.send(b"".join(out))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        """One reply: a simple string or error as its line with its type byte
        (b"+OK", b"-ERR ..."), an integer as int, a bulk as bytes or None,
        an array as a list."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return line
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise AssertionError(f"not a RESP reply: {line!r}")

    def read_raw_reply(self):
        """One reply as the exact bytes the server sent, framing included
        (b"+OK\r\n", b"$3\r\nabc\r\n", b"*2\r\n:1\r\n$-1\r\n")."""
        line = self._line()
        out = line + b"\r\n"
        kind = line[:1]
        if kind == b"$" and int(line[1:]) >= 0:
            n = int(line[1:])
            while len(self.buf) < n + 2:
                self._fill()
            out += self.buf[:n + 2]
            self.buf = self.buf[n + 2:]
        elif kind == b"*" and int(line[1:]) > 0:
            for _ in range(int(line[1:])):
                out += self.read_raw_reply()
        return out

    def closed_by_server(self, timeout=5.0):
        """True when the server closes the connection (EOF) within timeout,
        after any bytes still buffered."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def nothing_within(self, seconds):
        """True when no reply byte arrives within `seconds` (and the
        connection stays open)."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        self.buf += chunk
        return False
