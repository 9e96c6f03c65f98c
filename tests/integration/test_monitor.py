"""What Redis's tools read: INFO as Redis 7 lays it out, per-command,
per-error and latency statistics, SLOWLOG and LATENCY, held against a real
redis-server (redis_reference.py) where the shapes and texts must match.
"""

import re
import time
import unittest

from ember_fixture import EmberServer, EmberTestCase
from redis_reference import RedisReference


def sections(text):
    return re.findall(r"^# (\w+)\r$", text.decode(), re.M)


def fields(text):
    out = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#"):
            key, _, value = line.partition(":")
            out[key] = value
    return out


class Info(EmberTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer()
        cls.server.start()
        cls.redis = RedisReference()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.redis.stop()

    def test_sections_are_redis_7s_in_its_order_then_embers(self):
        for args in [("INFO",), ("INFO", "default"), ("INFO", "all"),
                     ("INFO", "everything")]:
            with self.subTest(args=args):
                self.assertEqual(sections(self.server.call(*args)),
                                 sections(self.redis.call(*args)) + ["Ember"])
        self.assertEqual(sections(self.server.call("INFO", "server", "CLIENTS")),
                         ["Server", "Clients"])
        self.assertEqual(self.server.call("INFO", "no-such-section"),
                         self.redis.call("INFO", "no-such-section"))

    def test_fields_tools_read_are_there(self):
        info = fields(self.server.call("INFO", "all"))
        for key in [
                "redis_version", "redis_mode", "os", "process_id", "run_id",
                "tcp_port", "uptime_in_seconds", "connected_clients",
                "maxclients", "blocked_clients", "used_memory",
                "used_memory_human", "used_memory_rss", "used_memory_peak",
                "maxmemory", "maxmemory_human", "maxmemory_policy",
                "mem_fragmentation_ratio", "loading", "aof_enabled",
                "aof_last_write_status", "rdb_last_bgsave_status",
                "total_connections_received", "total_commands_processed",
                "instantaneous_ops_per_sec", "total_net_input_bytes",
                "total_net_output_bytes", "rejected_connections",
                "expired_keys", "evicted_keys", "keyspace_hits",
                "keyspace_misses", "total_error_replies", "role",
                "connected_slaves", "used_cpu_sys", "used_cpu_user",
                "cluster_enabled",
                # Ember's, where they always were
                "arena_bytes", "arena_items", "hot_hits", "cold_hits",
                "promotions", "cold_tier", "fsync", "local_readers",
                "reader_lease_ms", "scan_cursors"]:
            self.assertIn(key, info)
        self.assertEqual(info["maxmemory"], str(64 << 20))
        self.assertEqual(info["maxmemory_human"], "64.00M")
        self.assertGreater(int(info["used_memory"]), 0)
        self.assertRegex(info["run_id"], r"^[0-9a-f]{40}$")

    def test_commandstats_count_calls_failures_and_rejections(self):
        r = self.server.client()
        r.config_resetstat()
        r.set("n", "not a number")
        r.get("n")
        r.get("n")
        for args in [("INCR", "n"), ("GET",), ("CONFIG", "GET")]:
            try:
                r.execute_command(*args)
            except Exception:
                pass
        r.config_get("port")
        stats = r.info("commandstats")
        self.assertEqual(stats["cmdstat_get"]["calls"], 2)
        self.assertEqual(stats["cmdstat_get"]["rejected_calls"], 1)
        self.assertEqual(stats["cmdstat_incr"]["failed_calls"], 1)
        self.assertEqual(stats["cmdstat_set"]["calls"], 1)
        # Subcommands count under "config|get", as in Redis 7.
        self.assertEqual(stats["cmdstat_config|get"]["calls"], 1)
        self.assertEqual(stats["cmdstat_config|get"]["rejected_calls"], 1)
        for v in stats.values():
            self.assertEqual(set(v), {"calls", "usec", "usec_per_call",
                                      "rejected_calls", "failed_calls"})
        errors = fields(self.server.call("INFO", "errorstats"))
        self.assertEqual(errors, {"errorstat_ERR": "count=3"})
        r.close()

    def test_line_formats_match_redis(self):
        for conn in (self.server, self.redis):
            with conn.raw() as c:
                c.command("SET", "fmt", "1")
                c.read_reply()
                c.command("NOSUCHCOMMAND")
                c.read_reply()
        patterns = {
            "commandstats": r"^cmdstat_set:calls=\d+,usec=\d+,"
                            r"usec_per_call=\d+\.\d\d,rejected_calls=\d+,"
                            r"failed_calls=\d+\r$",
            "latencystats": r"^latency_percentiles_usec_set:p50=\d+\.\d{3},"
                            r"p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r$",
            "errorstats": r"^errorstat_ERR:count=\d+\r$",
        }
        for section, pattern in patterns.items():
            for conn, who in ((self.server, "ember"), (self.redis, "redis")):
                with self.subTest(section=section, who=who):
                    text = conn.call("INFO", section).decode()
                    self.assertRegex(text, re.compile(pattern, re.M))

    def test_instantaneous_ops_per_sec_follows_the_load(self):
        stop = time.time() + 2.5
        r = self.server.client()
        while time.time() < stop:
            r.ping()
        self.assertGreater(r.info("stats")["instantaneous_ops_per_sec"], 50)
        r.close()


class SlowlogAndLatency(EmberTestCase):
    def setUp(self):
        self.server = EmberServer(enable_debug_command="yes")
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_slowlog_entries_have_redis_shape(self):
        ref = RedisReference()
        self.addCleanup(ref.stop)
        long_value = "a" * 300
        many = [str(i) for i in range(40)]
        got = {}
        for name, conn in (("ember", self.server), ("redis", ref)):
            with conn.raw() as c:
                for args in [("SLOWLOG", "RESET"),
                             ("CONFIG", "SET", "slowlog-log-slower-than", "0"),
                             ("CLIENT", "SETNAME", "tester"),
                             ("SET", "x", long_value), ("MSET", *many),
                             ("AUTH", "secret"),
                             ("CONFIG", "SET", "slowlog-log-slower-than",
                              "-1")]:
                    c.command(*args)
                    c.read_reply()
                c.command("SLOWLOG", "GET", "-1")
                got[name] = c.read_reply()
                port = c.sock.getsockname()[1]
            # Newest first: AUTH, MSET, SET, CLIENT SETNAME, CONFIG SET.
            for entry in got[name]:
                self.assertEqual(len(entry), 6)
                for i in range(3):
                    self.assertIsInstance(entry[i], int)
            self.assertEqual(got[name][0][4], f"127.0.0.1:{port}".encode())
            self.assertEqual(got[name][0][5], b"tester")
            got[name] = [e[3] for e in got[name]]
        self.assertEqual(got["ember"], got["redis"])

    def test_slowlog_get_len_reset_and_errors(self):
        # Each command is logged after it replied, SLOWLOG's own too.
        self.server.call("CONFIG", "SET", "slowlog_log_slower_than", "0")
        for i in range(5):
            self.server.call("SET", f"k{i}", "v")
        self.assertEqual(self.server.call("SLOWLOG", "LEN"), 6)
        self.assertEqual(len(self.server.call("SLOWLOG", "GET")), 7)
        for i in range(5):
            self.server.call("SET", f"k{i}", "v")
        self.assertEqual(len(self.server.call("SLOWLOG", "GET")), 10)
        self.assertEqual(len(self.server.call("SLOWLOG", "GET", "2")), 2)
        self.assertEqual(len(self.server.call("SLOWLOG", "GET", "-1")), 15)
        self.assertEqual(self.server.call("SLOWLOG", "RESET"), b"+OK")
        self.assertEqual(self.server.call("SLOWLOG", "LEN"), 1)  # the RESET itself
        self.server.call("CONFIG", "SET", "slowlog_log_slower_than", "-1")
        ref = RedisReference()
        self.addCleanup(ref.stop)
        for args in [("SLOWLOG", "GET", "1", "2"), ("SLOWLOG", "GET", "-2"),
                     ("SLOWLOG", "GET", "x"), ("SLOWLOG", "NOPE"),
                     ("SLOWLOG",), ("SLOWLOG", "LEN", "x"),
                     ("SLOWLOG", "RESET", "x"), ("SLOWLOG", "HELP")]:
            with self.subTest(args=args):
                self.assertEqual(self.server.call(*args), ref.call(*args))

    def test_slowlog_keeps_only_slow_commands(self):
        self.server.call("CONFIG", "SET", "slowlog-log-slower-than", "100000")
        self.server.call("SLOWLOG", "RESET")
        self.server.call("SET", "fast", "1")
        self.server.call("DEBUG", "SLEEP", "0.2")
        entries = self.server.call("SLOWLOG", "GET")
        self.assertEqual([e[3] for e in entries],
                         [[b"DEBUG", b"SLEEP", b"0.2"]])
        self.assertGreaterEqual(entries[0][2], 200000)

    def test_slowlog_max_len_trims(self):
        self.server.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        self.server.call("CONFIG", "SET", "slowlog-max-len", "3")
        for i in range(10):
            self.server.call("SET", f"k{i}", "v")
        self.assertEqual(self.server.call("SLOWLOG", "LEN"), 3)
        self.assertEqual([e[3] for e in self.server.call("SLOWLOG", "GET")],
                         [[b"SLOWLOG", b"LEN"], [b"SET", b"k9", b"v"],
                          [b"SET", b"k8", b"v"]])

    def test_latency_latest_history_and_reset(self):
        self.assertEqual(self.server.call("LATENCY", "LATEST"), [])
        self.server.call("DEBUG", "SLEEP", "0.05")  # off: threshold 0
        self.assertEqual(self.server.call("LATENCY", "LATEST"), [])
        self.server.call("CONFIG", "SET", "latency-monitor-threshold", "20")
        self.server.call("DEBUG", "SLEEP", "0.05")
        self.server.call("DEBUG", "SLEEP", "0.01")  # under the threshold
        latest = self.server.call("LATENCY", "LATEST")
        self.assertEqual(len(latest), 1)
        name, when, last, worst = latest[0]
        self.assertEqual(name, b"command")
        self.assertLessEqual(abs(when - time.time()), 5)
        self.assertGreaterEqual(last, 50)
        self.assertGreaterEqual(worst, last)
        history = self.server.call("LATENCY", "HISTORY", "command")
        self.assertEqual(len(history), 1)
        self.assertEqual(history[0][0], when)
        self.assertEqual(self.server.call("LATENCY", "HISTORY", "nothing"), [])
        self.assertEqual(self.server.call("LATENCY", "RESET", "COMMAND", "x"), 1)
        self.assertEqual(self.server.call("LATENCY", "LATEST"), [])

    def test_latency_errors_and_help_match_redis(self):
        ref = RedisReference()
        self.addCleanup(ref.stop)
        for args in [("LATENCY",), ("LATENCY", "NOPE"),
                     ("LATENCY", "HISTORY"), ("LATENCY", "LATEST", "x"),
                     ("LATENCY", "RESET"), ("LATENCY", "LATEST")]:
            with self.subTest(args=args):
                self.assertEqual(self.server.call(*args), ref.call(*args))


if __name__ == "__main__":
    unittest.main()
