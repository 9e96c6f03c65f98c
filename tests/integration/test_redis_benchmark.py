"""redis-benchmark (Debian redis-tools) against the real ember-server: the
runs exit 0, print no error lines, report a request rate for every test, and
leave the data the commands should have left.
"""

import re
import subprocess
import unittest

from ember_fixture import EmberServer, EmberTestCase

TESTS = {"SET": "SET", "GET": "GET", "INCR": "INCR", "MSET": "MSET (10 keys)"}
RATE = re.compile(r"^(?P<name>[A-Z][A-Za-z ()0-9]*): "
                  r"(?P<rps>[0-9.]+) requests per second")
N = 2000


class RedisBenchmark(EmberTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer()
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def setUp(self):
        self.r = self.server.client()
        self.addCleanup(self.r.close)
        self.r.flushall()

    def benchmark(self, *args):
        """Runs redis-benchmark -q; returns {test name: requests/s}."""
        out = subprocess.run(
            ["redis-benchmark", *args, "-q"], capture_output=True, timeout=120)
        text = (out.stdout + out.stderr).decode("utf-8", "replace")
        self.assertEqual(out.returncode, 0, text)
        # -q rewrites a progress line with \r; the final figures end in \n.
        lines = [seg.strip() for seg in re.split(r"[\r\n]", text)]
        errors = [l for l in lines
                  if re.search(r"error|err |warning|refused|reset", l, re.I)]
        self.assertEqual(errors, [], text)
        rates = {}
        for line in lines:
            m = RATE.match(line)
            if m:
                rates[m.group("name")] = float(m.group("rps"))
        return rates

    def assertAllRan(self, rates):
        self.assertEqual(set(rates), set(TESTS.values()), rates)
        for name, rps in rates.items():
            self.assertGreater(rps, 0, name)

    def test_set_get_incr_mset_run_without_errors(self):
        rates = self.benchmark("-p", str(self.server.port),
                               "-t", "set,get,incr,mset", "-n", str(N))
        self.assertAllRan(rates)
        # Without -r every request hits the same key: 50 clients' INCRs all
        # counted, and SET and MSET left a 3-byte value (-d default).
        self.assertEqual(self.r.get("counter:__rand_int__"), str(N).encode())
        self.assertEqual(len(self.r.get("key:__rand_int__")), 3)

    def test_pipelined_random_keys_with_1_kib_values_run_without_errors(self):
        rates = self.benchmark("-p", str(self.server.port),
                               "-t", "set,get,incr,mset", "-n", str(N),
                               "-P", "16", "-r", "100000", "-d", "1024")
        self.assertAllRan(rates)
        self.assertGreater(self.r.dbsize(), 100)
        key = next(k for k in self.r.scan_iter(match="key:*"))
        self.assertEqual(len(self.r.get(key)), 1024)

    def test_the_unix_socket_runs_without_errors(self):
        rates = self.benchmark("-s", self.server.unix_socket,
                               "-t", "set,get,incr,mset", "-n", str(N))
        self.assertAllRan(rates)


if __name__ == "__main__":
    unittest.main()
