"""Debian's prometheus-redis-exporter against the real ember-server: it must
log no error and export what a Redis dashboard shows (up, keys per
database, hits, misses, evictions, used memory, clients, calls per
command). The exporter runs on 127.0.0.1 with a free port; /metrics is read
with urllib.
"""

import os
import re
import subprocess
import threading
import time
import unittest
import urllib.request

from ember_fixture import EmberServer, EmberTestCase, _die_with_parent
from redis_reference import free_port

EXPORTER = os.environ.get("EMBER_REDIS_EXPORTER",
                          "/usr/bin/prometheus-redis-exporter")


def metric(text, name, labels=""):
    """The value of `name{labels}` in Prometheus text, or None."""
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(labels) + r"\}"
                                 if labels else "") + r" (\S+)$"
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else None


class Exporter(EmberTestCase):
    def setUp(self):
        self.assertTrue(os.access(EXPORTER, os.X_OK),
                        f"no {EXPORTER}: scripts/install-deps.sh installs "
                        f"prometheus-redis-exporter")
        # A small arena, so that loading it evicts.
        self.server = EmberServer(arena_bytes="8mb", cold_tier="none")
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.web_port = free_port()
        self.exporter = subprocess.Popen(
            [EXPORTER, f"--redis.addr=redis://127.0.0.1:{self.server.port}",
             f"--web.listen-address=127.0.0.1:{self.web_port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.exporter_log = []
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()
        self.addCleanup(self._stop_exporter)

    def _drain(self):
        for line in self.exporter.stdout:
            self.exporter_log.append(line.decode("utf-8", "replace").rstrip())

    def _stop_exporter(self):
        if self.exporter.poll() is None:
            self.exporter.terminate()
            self.exporter.wait(timeout=10)
        self.drain.join(timeout=5)
        self.exporter.stdout.close()

    def scrape(self):
        url = f"http://127.0.0.1:{self.web_port}/metrics"
        deadline = time.time() + 10
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    return resp.read().decode()
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def test_the_exporter_sees_ember_as_redis(self):
        r = self.server.client()
        value = b"v" * 1000
        for i in range(20000):  # ~20 MB into an 8 MiB arena: evictions
            r.set(f"key:{i}", value)
        r.set("hit", "1")
        for _ in range(3):
            r.get("hit")
        r.get("no-such-key")
        text = self.scrape()
        text = self.scrape()  # the second scrape also sees the first's calls
        log = "\n".join(self.exporter_log)
        self.assertNotRegex(log, r"level=(error|fatal)", log)
        self.assertEqual(metric(text, "redis_up"), 1.0, text[:3000])
        self.assertEqual(metric(text, "redis_exporter_last_scrape_error", 'err=""'), 0)
        keys = metric(text, "redis_db_keys", 'db="db0"')
        self.assertIsNotNone(keys, text[:3000])
        self.assertEqual(keys, r.dbsize())
        self.assertGreaterEqual(metric(text, "redis_keyspace_hits_total"), 3)
        self.assertGreaterEqual(metric(text, "redis_keyspace_misses_total"), 1)
        self.assertGreater(metric(text, "redis_evicted_keys_total"), 0)
        self.assertGreater(metric(text, "redis_memory_used_bytes"), 0)
        self.assertEqual(metric(text, "redis_memory_max_bytes"), 8 << 20)
        self.assertGreaterEqual(metric(text, "redis_connected_clients"), 1)
        self.assertGreaterEqual(
            metric(text, "redis_commands_total", 'cmd="set"'), 20001)
        self.assertGreaterEqual(
            metric(text, "redis_commands_total", 'cmd="get"'), 4)
        self.assertGreaterEqual(
            metric(text, "redis_commands_total", 'cmd="info"'), 1)
        self.assertIsNotNone(metric(text, "redis_slowlog_length"))
        r.close()


if __name__ == "__main__":
    unittest.main()
