"""CONFIG GET, SET, RESETSTAT and REWRITE against the real ember-server.

Error texts are held against a real redis-server (redis_reference.py) where
the setting means the same in both; every setting CONFIG SET may change is
changed here (or in test_monitor.py, test_limits.py) and shown to take
effect, and RUNTIME_TESTED must name exactly the settings --help marks
"runtime".
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import redis

from ember_fixture import EmberServer, EmberTestCase, server_path
from redis_reference import RedisReference

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED_CONF = os.path.join(HERE, "..", "..", "conf", "ember.conf")

# Each runtime setting, and the test that shows CONFIG SET changing it.
RUNTIME_TESTED = {
    "requirepass": "test_config.RuntimeSettings.test_requirepass",
    "max_clients": "test_config.RuntimeSettings.test_max_clients",
    "proto_max_bulk_len": "test_config.RuntimeSettings.test_proto_max_bulk_len",
    "reader_lease_ms": "test_config.RuntimeSettings.test_reader_lease_ms",
    "log_level": "test_config.RuntimeSettings.test_log_level",
    "slowlog_log_slower_than": "test_monitor.SlowlogAndLatency.test_slowlog_*",
    "slowlog_max_len":
        "test_monitor.SlowlogAndLatency.test_slowlog_max_len_trims",
    "latency_monitor_threshold":
        "test_monitor.SlowlogAndLatency.test_latency_*",
    "client_output_buffer_limit":
        "test_limits.ClientLimits.test_unread_replies_*",
    "client_query_buffer_limit":
        "test_limits.ClientLimits.test_an_endless_request_*",
}


def runtime_settings_from_help():
    out = subprocess.run([server_path(), "--help"], capture_output=True,
                         text=True, check=True).stdout
    return {m.group(1) for m in re.finditer(r"^  (\w+) .*, runtime$", out,
                                            re.M)}


class Config(EmberTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer()
        cls.server.start()
        cls.redis = RedisReference()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.redis.stop()

    def test_every_runtime_setting_has_a_test_that_sets_it(self):
        self.assertEqual(set(RUNTIME_TESTED), runtime_settings_from_help())

    def test_get_answers_flat_name_value_pairs_as_redis(self):
        self.assertEqual(self.server.call("CONFIG", "GET", "maxclients"),
                         [b"maxclients", b"10000"])
        # An exact name keeps the client's spelling, as in Redis.
        self.assertEqual(self.server.call("CONFIG", "GET", "MAXCLIENTS"),
                         [b"MAXCLIENTS", b"10000"])
        self.assertEqual(self.redis.call("CONFIG", "GET", "MAXCLIENTS")[0],
                         b"MAXCLIENTS")
        self.assertEqual(self.server.call("CONFIG", "GET", "nothing-like-it"), [])

    def test_get_globs_see_ember_and_redis_names_once_each(self):
        got = self.server.call("CONFIG", "GET", "max*", "maxclients", "MAX*")
        names = got[0::2]
        self.assertEqual(len(names), len(set(names)))
        for name in (b"max_clients", b"maxclients", b"maxmemory",
                     b"maxmemory-policy", b"max_value_bytes_hot"):
            self.assertIn(name, names)
        pairs = dict(zip(got[0::2], got[1::2]))
        self.assertEqual(pairs[b"maxmemory"], str(64 << 20).encode())

    def test_get_star_has_every_setting_and_redis_views(self):
        pairs = dict(zip(*[iter(self.server.call("CONFIG", "GET", "*"))] * 2))
        for name in (b"bind", b"port", b"appendonly", b"save", b"appendfsync",
                     b"slowlog-log-slower-than", b"slowlog_max_len",
                     b"client_output_buffer_limit",
                     b"client-query-buffer-limit", b"proto-max-bulk-len"):
            self.assertIn(name, pairs)
        self.assertEqual(pairs[b"appendonly"], b"yes")
        self.assertEqual(pairs[b"save"], b"")
        self.assertNotIn(b"requirepass", pairs)

    def test_errors_are_redis_words(self):
        cases = [
            ("CONFIG", "SET", "no-such-option", "1"),
            ("CONFIG", "SET", "maxclients"),
            ("CONFIG", "SET", "maxclients", "abc"),
            ("CONFIG", "SET", "maxclients", "5", "maxclients", "6"),
            ("CONFIG", "SET", "maxclients", "50", "no-such-option", "1"),
            ("CONFIG", "SET", "enable-debug-command", "yes"),
            ("CONFIG", "SET", "maxclients", "abc", "enable-debug-command",
             "yes"),
            ("CONFIG", "SET", "slowlog-log-slower-than", "-5"),
            ("CONFIG", "SET", "slowlog-log-slower-than", "x"),
            ("CONFIG", "SET", "slowlog-max-len", "-1"),
            ("CONFIG", "SET", "latency-monitor-threshold", "-1"),
            ("CONFIG", "SET", "client-query-buffer-limit", "10"),
            ("CONFIG", "GET"),
            ("CONFIG",),
            ("CONFIG", "NOPE"),
            ("CONFIG", "REWRITE", "x"),
            ("CONFIG", "RESETSTAT", "x"),
            ("CONFIG", "REWRITE"),  # neither has a config file
        ]
        for args in cases:
            with self.subTest(args=args):
                self.assertEqual(self.server.call(*args), self.redis.call(*args))

    def test_set_is_all_or_nothing(self):
        before = self.server.call("CONFIG", "GET", "slowlog-max-len")
        reply = self.server.call("CONFIG", "SET", "slowlog-max-len", "5",
                          "maxclients", "abc")
        self.assertTrue(reply.startswith(b"-ERR CONFIG SET failed"), reply)
        self.assertEqual(self.server.call("CONFIG", "GET", "slowlog-max-len"), before)
        self.assertEqual(self.server.call("CONFIG", "SET", "slowlog-max-len", "5",
                                   "slowlog-log-slower-than", "20000"), b"+OK")
        self.assertEqual(self.server.call("CONFIG", "GET", "slowlog*"),
                         [b"slowlog_log_slower_than", b"20000",
                          b"slowlog-log-slower-than", b"20000",
                          b"slowlog_max_len", b"5", b"slowlog-max-len", b"5"])
        self.server.call("CONFIG", "SET", "slowlog-max-len", "128",
                  "slowlog-log-slower-than", "10000")

    def test_fixed_settings_are_immutable(self):
        for name in ("port", "arena_bytes", "maxmemory", "fsync", "appendonly",
                     "save", "maxmemory-policy", "threads"):
            with self.subTest(name=name):
                self.assertEqual(
                    self.server.call("CONFIG", "SET", name, "1"),
                    f"-ERR CONFIG SET failed (possibly related to argument "
                    f"'{name}') - can't set immutable config".encode())

    def test_threads_auto_runs_one_less_than_the_usable_cores(self):
        self.assertEqual(self.server.call("CONFIG", "GET", "threads"),
                         [b"threads", b"auto"])
        cores = len(os.sched_getaffinity(0))  # the server inherits it
        self.assertEqual(self.server.info("ember")["network_threads"],
                         max(1, cores - 1))

    def test_resetstat_zeroes_the_counters(self):
        r = self.server.client()
        r.set("k", "v")
        r.get("k")
        r.get("missing")
        self.assertEqual(self.server.call("CONFIG", "RESETSTAT"), b"+OK")
        stats = r.info("stats")
        self.assertEqual(stats["keyspace_hits"], 0)
        self.assertEqual(stats["keyspace_misses"], 0)
        self.assertLessEqual(stats["total_commands_processed"], 2)
        self.assertEqual(r.info("errorstats"), {})
        self.assertNotIn("cmdstat_get", r.info("commandstats"))
        r.close()


class RuntimeSettings(EmberTestCase):
    """Each runtime setting, changed by CONFIG SET, changes what the server
    does."""

    def setUp(self):
        self.server = EmberServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_requirepass(self):
        kept = self.server.raw()
        self.addCleanup(kept.close)
        self.assertEqual(self.server.call("CONFIG", "SET", "requirepass", "s3cret"),
                         b"+OK")
        with self.server.raw() as c:
            c.command("GET", "k")
            self.assertEqual(c.read_reply(),
                             b"-NOAUTH Authentication required.")
            c.command("AUTH", "s3cret")
            self.assertEqual(c.read_reply(), b"+OK")
            c.command("CONFIG", "SET", "requirepass", "")
            self.assertEqual(c.read_reply(), b"+OK")
        # Connections made before keep working, as in Redis.
        kept.command("PING")
        self.assertEqual(kept.read_reply(), b"+PONG")
        with self.server.raw() as c:
            c.command("GET", "k")
            self.assertIsNone(c.read_reply())

    def test_max_clients(self):
        held = [self.server.raw() for _ in range(2)]
        for c in held:
            self.addCleanup(c.close)
            c.command("PING")
            self.assertEqual(c.read_reply(), b"+PONG")
        def connected():
            held[0].command("INFO", "clients")
            text = held[0].read_reply().decode()
            return int(re.search(r"connected_clients:(\d+)", text).group(1))

        deadline = time.time() + 5
        while connected() != 2 and time.time() < deadline:
            time.sleep(0.05)
        held[0].command("CONFIG", "SET", "maxclients", "2")
        self.assertEqual(held[0].read_reply(), b"+OK")
        with self.server.raw() as c:
            c.command("PING")
            self.assertEqual(c.read_reply(),
                             b"-ERR max number of clients reached")
        held[0].command("CONFIG", "SET", "max_clients", "10000")
        self.assertEqual(held[0].read_reply(), b"+OK")
        self.assertTrue(self.server.ping_ok())

    def test_proto_max_bulk_len(self):
        with self.server.raw() as c:
            c.command("SET", "k", "x" * 4096)
            self.assertEqual(c.read_reply(), b"+OK")
        self.assertEqual(self.server.call("CONFIG", "SET", "proto-max-bulk-len", "2kb"),
                         b"+OK")
        with self.server.raw() as c:
            c.command("SET", "k", "x" * 4096)
            self.assertEqual(c.read_reply(),
                             b"-ERR Protocol error: invalid bulk length")
            self.assertTrue(c.closed_by_server())
        self.assertEqual(self.server.call("CONFIG", "GET", "proto_max_bulk_len"),
                         [b"proto_max_bulk_len", b"2048"])

    def test_reader_lease_ms(self):
        # The arena's reclaimer itself reports the lease it judges by
        # (EvictionTest.LeaseChangedAtRunTimeAppliesToHeldGuards shows a
        # held guard revoked by a lease shortened at run time).
        self.assertEqual(self.server.info("ember")["reader_lease_ms"], 1000)
        self.assertEqual(self.server.call("CONFIG", "SET", "reader_lease_ms", "50"),
                         b"+OK")
        self.assertEqual(self.server.info("ember")["reader_lease_ms"], 50)

    def test_log_level(self):
        def connect_and_wait():
            self.assertTrue(self.server.ping_ok())
            time.sleep(0.2)
            return self.server.log()

        self.assertNotIn("connected", connect_and_wait().split("--- start")[-1])
        self.assertEqual(self.server.call("CONFIG", "SET", "log_level", "debug"),
                         b"+OK")
        self.assertRegex(connect_and_wait(), r"client id=\d+ addr=\S+ connected")
        self.assertEqual(self.server.call("CONFIG", "SET", "log_level", "warning"),
                         b"+OK")
        # The server's output is drained by a thread: let the lines logged
        # before the change (the CONFIG SET's own connection) arrive first.
        time.sleep(0.3)
        before = self.server.log().count(" connected")
        after = connect_and_wait().count(" connected")
        self.assertEqual(after, before)


class Rewrite(EmberTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ember-rewrite-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.conf = os.path.join(self.dir, "ember.conf")
        shutil.copy(SHIPPED_CONF, self.conf)
        self.server = EmberServer(config=self.conf)
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_rewrite_keeps_comments_and_writes_values_in_force(self):
        with open(self.conf) as f:
            before = f.read().splitlines()
        r = self.server.client()
        self.assertTrue(r.config_set("slowlog-max-len", 77))
        self.assertEqual(r.execute_command("CONFIG", "REWRITE"), b"OK")
        with open(self.conf) as f:
            after = f.read().splitlines()
        # Every comment and blank line is still there, in order.
        keep = [l for l in before if not l or l.startswith("#")]
        self.assertEqual([l for l in after if not l or l.startswith("#")
                          and "Generated by CONFIG REWRITE" not in l], keep)
        # The line stays where it was, with the value in force.
        i = next(i for i, l in enumerate(before) if l.startswith("slowlog_max"))
        self.assertEqual(after[i], "slowlog_max_len = 77")
        # The shipped file has a line for every setting: the values given
        # on the command line took their places, nothing was appended.
        self.assertIn(f"name = {self.server.name}", after)
        self.assertIn(f"port = {self.server.port}", after)
        self.assertNotIn("# Generated by CONFIG REWRITE", after)
        r.close()
        # The rewritten file starts the server with the value.
        self.server.restart()
        r = self.server.client()
        self.assertEqual(r.config_get("slowlog_max_len"),
                         {"slowlog_max_len": "77"})
        r.close()

    def test_rewrite_appends_what_the_file_lacks_under_redis_mark(self):
        with open(self.conf, "w") as f:
            f.write("# mine\nslowlog_max_len = 128\n")
        self.server.restart()
        r = self.server.client()
        r.config_set("slowlog_max_len", 5)
        r.config_set("latency-monitor-threshold", 9)
        self.assertEqual(r.execute_command("CONFIG", "REWRITE"), b"OK")
        with open(self.conf) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[:3], ["# mine", "slowlog_max_len = 5",
                                     "# Generated by CONFIG REWRITE"])
        self.assertIn("latency_monitor_threshold = 9", lines)
        self.assertIn(f"data_dir = {self.server.data_dir}", lines)
        self.assertNotIn("fsync = everysec", lines)  # defaults stay out
        r.close()


class RelativePathsServer(EmberServer):
    """A server whose path settings come only from its config file (the
    fixture's absolute --data_dir, --run_dir, --unix_socket left out),
    started from another working directory."""

    def __init__(self, conf, **settings):
        super().__init__(config=conf, **settings)
        etc = os.path.dirname(conf)
        self.data_dir = os.path.join(etc, "data")
        self.unix_socket = os.path.join(etc, "run", "ember.sock")
        self.cwd = os.path.join(self.root, "elsewhere")
        os.mkdir(self.cwd)

    def argv(self):
        args = [self.binary, "--bind", "127.0.0.1", "--port", "0",
                "--name", self.name]
        for key, value in self.settings.items():
            args += [f"--{key}", str(value)]
        return args


class RelativePaths(EmberTestCase):
    """A relative path in the config file is taken against the file's
    directory, whatever the server's working directory."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ember-relative-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.etc = os.path.join(self.dir, "etc")
        os.mkdir(self.etc)
        self.conf = os.path.join(self.etc, "ember.conf")
        with open(self.conf, "w") as f:
            f.write("data_dir = ./data\nlog_dir = ../redo\nrun_dir = run\n"
                    "unix_socket = run/ember.sock\n")
        self.server = RelativePathsServer(self.conf)
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_every_path_lands_beside_the_config_file(self):
        r = self.server.unix_client()  # at etc/run/ember.sock
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.config_get("data_dir"),
                         {"data_dir": os.path.join(self.etc, "data")})
        r.close()
        self.server.stop()
        self.assertTrue(os.path.exists(os.path.join(self.etc, "data",
                                                    "CURRENT")))
        self.assertTrue(os.path.exists(os.path.join(self.dir, "redo",
                                                    "LOCK")))
        self.assertEqual(os.stat(os.path.join(self.etc, "run")).st_mode
                         & 0o777, 0o750)
        # Nothing in the server's working directory.
        self.assertEqual(os.listdir(self.server.cwd), [])
        # The same keys from yet another working directory.
        self.server.cwd = self.dir
        self.server.start()
        r = self.server.unix_client()
        self.assertEqual(r.get("k"), b"v")
        r.close()


if __name__ == "__main__":
    unittest.main()
