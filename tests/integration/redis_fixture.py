"""tests/integration/redis_fixture.py: a real redis-server beside Ember, for
the tests that compare replies byte for byte (test_redis_compat.py).

RedisServer runs /usr/bin/redis-server (env REDIS_SERVER overrides) on
127.0.0.1 at a free ephemeral port, in a temporary directory, with no
persistence (--save "" --appendonly no) and any extra settings given as
keyword arguments (RedisServer(proto_max_bulk_len="1mb") runs
`--proto-max-bulk-len 1mb`). It dies with the test process.

CompatTestCase holds a RawConnection to each server; same(*command) sends
the command to both and asserts that the raw reply bytes are equal.
"""

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time

from ember_fixture import EmberTestCase, RawConnection, _die_with_parent

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


def redis_available():
    return os.access(REDIS_SERVER, os.X_OK)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    START_TIMEOUT_S = 10.0

    def __init__(self, **settings):
        self.root = tempfile.mkdtemp(prefix="ember-redis-")
        self.settings = {k.replace("_", "-"): str(v)
                         for k, v in settings.items()}
        self.port = None
        self.proc = None

    def start(self):
        # The port is free when chosen; another process may take it before
        # redis-server binds it, so a failed start tries another.
        for _ in range(5):
            self.port = _free_port()
            argv = [REDIS_SERVER, "--port", str(self.port), "--bind",
                    "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", self.root, "--daemonize", "no"]
            for key, value in self.settings.items():
                argv += [f"--{key}", value]
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            deadline = time.monotonic() + self.START_TIMEOUT_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with RawConnection(self.port, timeout=1.0) as c:
                        c.command("PING")
                        if c.read_reply() == b"+PONG":
                            return self.port
                except OSError:
                    time.sleep(0.05)
            self.stop()
        raise AssertionError(f"{REDIS_SERVER} did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class CompatTestCase(EmberTestCase):
    """Set `ember` and `redis` (servers) on the class; each test starts with
    both keyspaces flushed and a raw connection to each."""

    ember = None
    redis = None

    def setUp(self):
        self.server = self.ember  # for EmberTestCase's failure messages
        self.e = RawConnection(self.ember.port, timeout=30)
        self.addCleanup(self.e.close)
        self.r = RawConnection(self.redis.port, timeout=30)
        self.addCleanup(self.r.close)
        self.same("FLUSHALL")

    def both(self, *args):
        """Sends the command to both; returns (ember's, redis's) raw reply."""
        self.e.command(*args)
        self.r.command(*args)
        return self.e.read_raw_reply(), self.r.read_raw_reply()

    def both_values(self, *args):
        """Like both(), with the replies parsed (RawConnection.read_reply)."""
        self.e.command(*args)
        self.r.command(*args)
        return self.e.read_reply(), self.r.read_reply()

    def same(self, *args):
        """The command gets the same bytes from both; returns them."""
        ember, redis = self.both(*args)
        self.assertEqual(ember, redis, f"for {args!r}")
        return ember

    def script(self, *commands):
        """Each command (a tuple, or a string split as a shell would:
        "SETRANGE k 0 ''" has an empty last argument) in turn."""
        for c in commands:
            self.same(*(shlex.split(c) if isinstance(c, str) else c))
