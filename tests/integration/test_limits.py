"""Limits that keep one client from hurting the others, each against a
hostile client beside an honest one: replies it never reads
(client_output_buffer_limit), a request without end
(client_query_buffer_limit), the open-files limit at start (max_clients
raised to fit or lowered, as Redis), and SCAN cursors one client cannot
push out of another's reach.
"""

import os
import re
import socket
import time
import unittest

from ember_fixture import EmberServer, EmberTestCase


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class ClientLimits(EmberTestCase):
    def setUp(self):
        self.server = EmberServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.r = self.server.client()
        self.addCleanup(self.r.close)

    def stat(self, name):
        return self.r.info("stats")[name]

    def test_unread_replies_past_client_output_buffer_limit_close_the_client(
            self):
        big = os.urandom(1 << 20)
        self.r.set("big", big)
        self.assertTrue(self.r.config_set("client_output_buffer_limit", "4mb"))
        # A client that reads slowly but reads gets replies over the limit
        # in total: the limit is on what is unread at once.
        for _ in range(8):
            self.assertEqual(self.r.get("big"), big)
        hostile = socket.create_connection(("127.0.0.1", self.server.port))
        self.addCleanup(hostile.close)
        hostile.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hostile.sendall(b"GET big\r\n" * 200)  # 200 MiB of replies, unread
        self.assertTrue(wait_for(
            lambda: self.stat("client_output_buffer_limit_disconnections")
            == 1), self.server.log()[-2000:])
        # The log line may reach the fixture's reader thread after the stat.
        closing = (r"Closing client id=\d+ addr=127\.0\.0\.1:\d+ name= "
                   r"that reached client_output_buffer_limit")
        wait_for(lambda: re.search(closing, self.server.log()))
        self.assertRegex(self.server.log(), closing)
        # Its socket is closed: reading drains what the kernel held, then EOF.
        hostile.settimeout(10)
        with self.assertRaises((ConnectionResetError, EOFError)):
            while True:
                if not hostile.recv(1 << 20):
                    raise EOFError
        # The honest client never noticed.
        self.assertEqual(self.r.get("big"), big)
        self.assertLess(self.server.rss_bytes(), 1 << 30)

    def test_an_endless_request_past_client_query_buffer_limit_closes_it(self):
        self.assertTrue(self.r.config_set("client-query-buffer-limit", "1mb"))
        # A request under the limit is fine.
        self.assertTrue(self.r.set("k", b"v" * (900 << 10)))
        attacks = [
            # One bulk string announced at 100 MiB, sent without end.
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$104857600\r\n",
            # A million tiny arguments, never completed.
            b"*1000000\r\n$4\r\nMSET\r\n",
        ]
        for n, head in enumerate(attacks, start=1):
            with self.subTest(attack=head[:24]):
                hostile = socket.create_connection(
                    ("127.0.0.1", self.server.port), timeout=10)
                self.addCleanup(hostile.close)
                chunk = (b"x" * 65536 if n == 1 else b"$1\r\nx\r\n" * 9362)
                closed = False
                try:
                    hostile.sendall(head)
                    for _ in range(64):  # 4 MiB at most
                        hostile.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                if not closed:
                    try:
                        closed = hostile.recv(1) == b""
                    except ConnectionResetError:
                        closed = True
                self.assertTrue(closed)
                self.assertEqual(
                    self.stat("client_query_buffer_limit_disconnections"), n)
                self.assertEqual(self.r.get("k"), b"v" * (900 << 10))
        self.assertRegex(self.server.log(),
                         r"reached client_query_buffer_limit: \d+ bytes, "
                         r"limit 1048576")


class OpenFiles(EmberTestCase):
    """The server runs under `prlimit --nofile=SOFT:HARD` (and, as root,
    without CAP_SYS_RESOURCE, so it cannot lift the hard limit either)."""

    def start_limited(self, soft, hard, **settings):
        server = EmberServer(**settings)
        self.server = server
        self.addCleanup(server.cleanup)
        argv = server.argv
        prefix = ["prlimit", f"--nofile={soft}:{hard}", "--"]
        if os.geteuid() == 0:
            prefix += ["setpriv", "--bounding-set=-sys_resource",
                       "--inh-caps=-sys_resource", "--"]
        server.argv = lambda: prefix + argv()
        server.start()
        return server

    def test_max_clients_is_lowered_to_fit_a_low_hard_limit(self):
        server = self.start_limited(256, 1400)
        r = server.client()
        ember = r.info("ember")
        fit = ember["open_files_limit"] - ember["open_files_reserved"]
        self.assertEqual(ember["open_files_limit"], 1400)
        self.assertGreater(fit, 10)
        self.assertEqual(r.config_get("maxclients"), {"maxclients": str(fit)})
        self.assertIn(f"max_clients has been reduced to {fit}", server.log())
        with open(f"/proc/{server.proc.pid}/limits") as f:
            self.assertRegex(f.read(), r"Max open files\s+1400\s+1400")
        # Raising it past what fits is refused in Redis's words.
        with self.assertRaisesRegex(
                Exception, "The operating system is not able to handle the "
                f"specified number of clients, try with {fit}"):
            r.config_set("maxclients", fit + 100)
        # With every client slot taken by idle sockets, RocksDB still opens
        # the files it needs: 40 MiB of cold values flush its memtables.
        idle = []
        while len(idle) < fit - 1:
            s = socket.create_connection(("127.0.0.1", server.port))
            idle.append(s)
            self.addCleanup(s.close)
        self.assertTrue(wait_for(
            lambda: r.info("clients")["connected_clients"] == fit))
        with server.raw() as extra:
            extra.command("PING")
            self.assertEqual(extra.read_reply(),
                             b"-ERR max number of clients reached")
        value = os.urandom(1 << 20)
        for i in range(40):
            self.assertTrue(r.set(f"cold:{i}", value))
        for i in range(0, 40, 7):
            self.assertEqual(r.get(f"cold:{i}"), value)
        self.assertEqual(r.info("persistence")["cold_write_errors"], 0)
        r.close()

    def test_a_low_soft_limit_is_raised_to_fit(self):
        server = self.start_limited(256, 16384, max_clients=2000)
        ember = server.info("ember")
        want = 2000 + ember["open_files_reserved"]
        self.assertEqual(ember["open_files_limit"], want)
        with open(f"/proc/{server.proc.pid}/limits") as f:
            self.assertRegex(f.read(), rf"Max open files\s+{want}\s+16384")
        self.assertEqual(server.client().config_get("maxclients"),
                         {"maxclients": "2000"})

    def test_a_limit_below_what_the_server_needs_stops_the_start(self):
        with self.assertRaisesRegex(AssertionError, "exited with code 1"):
            self.start_limited(512, 512)
        self.assertRegex(self.server.log(),
                         r"the open files limit \('ulimit -n'\) of 512 is not "
                         r"enough for the server to start")


class ScanCursors(EmberTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer()
        cls.server.start()
        r = cls.server.client()
        cls.keys = {f"key:{i}".encode() for i in range(200)}
        r.mset({k: b"v" for k in cls.keys})
        r.close()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def scan(self, conn, cursor, count=10):
        conn.command("SCAN", cursor, "COUNT", count)
        cursor, keys = conn.read_reply()
        return cursor, keys

    def test_one_clients_cursors_cannot_evict_anothers(self):
        honest = self.server.raw(timeout=30)
        hostile = self.server.raw(timeout=30)
        self.addCleanup(honest.close)
        self.addCleanup(hostile.close)
        cursor, seen = self.scan(honest, 0)
        # More new cursors than the old server-wide table held (65,536).
        for _ in range(7):
            hostile.send(b"SCAN 0 COUNT 1\r\n" * 10000)
            for _ in range(10000):
                hostile.read_reply()
        self.assertLess(self.server.info("ember")["scan_cursors"], 5000)
        seen = list(seen)
        while cursor != b"0":
            cursor, keys = self.scan(honest, cursor)
            seen += keys
        self.assertEqual(sorted(seen), sorted(self.keys))

    def test_a_cursor_goes_on_from_another_connection(self):
        a, b = self.server.raw(), self.server.raw()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        cursor, seen = self.scan(a, 0, 50)
        seen = list(seen)
        while cursor != b"0":
            cursor, keys = self.scan(b, cursor, 50)
            seen += keys
        self.assertEqual(sorted(seen), sorted(self.keys))

    def test_a_scan_behind_a_write_in_a_pipeline_sees_it(self):
        with self.server.raw() as c:
            c.send(b"SET late:1 v\r\nSCAN 0 COUNT 1000\r\nSET late:2 v\r\n"
                   b"GET late:2\r\n")
            self.assertEqual(c.read_reply(), b"+OK")
            cursor, keys = c.read_reply()
            self.assertIn(b"late:1", keys)
            self.assertNotIn(b"late:2", keys)
            self.assertEqual(c.read_reply(), b"+OK")
            self.assertEqual(c.read_reply(), b"v")
            c.command("DEL", "late:1", "late:2")
            self.assertEqual(c.read_reply(), 2)


if __name__ == "__main__":
    unittest.main()
