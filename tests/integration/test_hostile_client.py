"""A hostile local client against the real ember-server (issue 10).

A process of another uid in the server's group (shm_worker hostile, env
EMBER_SHM_WORKER) tries to write, resize, chmod and reseal everything it can
reach, scribbles over its slot page and the shared hints, and abuses the
attach socket, while honest clients run APPEND, INCR, SET, GET and MGET over
TCP and read through the arena with `ember-cli --local`. Every reply and
every local read must be a value that was written (checked against a log of
acknowledged writes), the server must stay up and stop cleanly, and the next
start must find every key. Needs root (to run the hostile client as uid
65534); skipped otherwise.
"""

import os
import subprocess
import threading
import time
import unittest

import redis

from ember_fixture import EmberServer

WORKER = os.environ.get("EMBER_SHM_WORKER", "")
CLI = os.environ.get("EMBER_CLI", "")
SECONDS = 4


@unittest.skipUnless(os.geteuid() == 0,
                     "needs root to run a client as another uid")
class HostileLocalClient(unittest.TestCase):
    def setUp(self):
        self.server = EmberServer(arena_bytes="16mb", reader_lease_ms=100)
        self.addCleanup(self.server.cleanup)
        # The hostile uid may pass through the test's directory to run_dir
        # (0750, the server's group), where the Unix socket lives too.
        os.chmod(self.server.root, 0o711)
        self.server.unix_socket = os.path.join(self.server.run_dir,
                                               "ember.sock")
        self.server.start()
        self.errors = []

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.server.port,
                           socket_timeout=10)

    def appender(self, tid, end):
        c, key, expect, n = self.client(), f"log:{tid}", b"", 0
        while time.time() < end:
            chunk = f"<{tid}:{n}>".encode()
            expect += chunk
            length = c.append(key, chunk)
            if length != len(expect):
                self.errors.append(f"APPEND {key} -> {length}, "
                                   f"expected {len(expect)}")
            if n % 10 == 0 and c.get(key) != expect:
                self.errors.append(f"GET {key} is not what was appended")
            n += 1
        self.logs[key] = expect

    def counter(self, tid, end):
        c, key, last = self.client(), f"count:{tid}", 0
        while time.time() < end:
            v = c.incr(key)
            if v != last + 1:
                self.errors.append(f"INCR {key} -> {v} after {last}")
            last = v
        self.counts[key] = last

    def mgetter(self, end):
        c = self.client()
        keys = list(self.stable)
        while time.time() < end:
            got = c.mget(keys)
            for k, v in zip(keys, got):
                if v != self.stable[k]:
                    self.errors.append(f"MGET {k} -> {v!r}")

    def test_the_server_and_honest_clients_are_unharmed(self):
        self.assertTrue(os.access(WORKER, os.X_OK), f"no shm_worker: {WORKER}")
        self.assertTrue(os.access(CLI, os.X_OK), f"no ember-cli: {CLI}")
        r = self.client()
        self.stable = {f"stable:{i}": f"value-{i}-".encode() * 3
                       for i in range(100)}
        r.mset(self.stable)
        self.logs, self.counts = {}, {}
        hostile = subprocess.Popen(
            [WORKER, "hostile", self.server.name, self.server.run_dir,
             str(SECONDS), "65534", str(os.getegid())],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        end = time.time() + SECONDS - 0.5
        threads = [threading.Thread(target=self.appender, args=(t, end))
                   for t in range(2)]
        threads += [threading.Thread(target=self.counter, args=(t, end))
                    for t in range(2)]
        threads.append(threading.Thread(target=self.mgetter, args=(end,)))
        for t in threads:
            t.start()
        local_reads = 0
        while time.time() < end:
            key = f"stable:{local_reads % 100}"
            done = subprocess.run(
                [CLI, "--local", self.server.name, "--run-dir",
                 self.server.run_dir, "-s", self.server.unix_socket, "get",
                 key], capture_output=True, timeout=10)
            if done.returncode != 0 or \
                    done.stdout.rstrip(b"\n") != self.stable[key]:
                self.errors.append(f"local GET {key} -> {done!r}")
            local_reads += 1
        for t in threads:
            t.join()
        out = hostile.communicate(timeout=30)[0].decode()
        self.assertEqual(hostile.returncode, 0, out)
        self.assertNotIn("ALLOWED", out)
        self.assertIn("refused shrink a memfd", out)
        self.assertEqual(self.errors[:10], [])
        self.assertGreater(local_reads, 10)
        self.assertTrue(r.ping())
        # A clean stop, and a start that finds every acknowledged write.
        self.server.stop()
        self.server.start()
        r = self.client()
        for key, value in {**self.stable, **self.logs}.items():
            self.assertEqual(r.get(key), value, key)
        for key, value in self.counts.items():
            self.assertEqual(int(r.get(key)), value, key)


if __name__ == "__main__":
    unittest.main()
