"""tests/integration/redis_reference.py: a real redis-server (Debian's
7.0.15, /usr/bin/redis-server) to hold Ember's replies against.

RedisReference starts it on 127.0.0.1 with a free port, no persistence and
no config file, in a temporary directory; extra arguments are passed as
`--key value`. raw() gives a RawConnection (ember_fixture.py) so replies
compare byte for byte. Missing redis-server is a failure, not a skip:
scripts/install-deps.sh installs it.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

from ember_fixture import RawConnection, _die_with_parent

REDIS_SERVER = os.environ.get("EMBER_REDIS_SERVER", "/usr/bin/redis-server")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisReference:
    def __init__(self, **settings):
        if not os.access(REDIS_SERVER, os.X_OK):
            raise FileNotFoundError(
                f"no redis-server at {REDIS_SERVER}: scripts/install-deps.sh "
                f"installs it")
        self.dir = tempfile.mkdtemp(prefix="ember-redis-ref-")
        self.port = free_port()
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir]
        for key, value in settings.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.time() + 10
        while True:
            try:
                with self.raw() as c:
                    c.send(b"PING\r\n")
                    if c.read_reply() == b"+PONG":
                        return
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError("redis-server did not start")
            time.sleep(0.05)

    def raw(self, timeout=5.0):
        return RawConnection(self.port, timeout)

    def call(self, *args):
        with self.raw() as c:
            c.command(*args)
            return c.read_reply()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
