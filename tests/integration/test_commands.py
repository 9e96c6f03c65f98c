"""Every command of server/command_table.cc against the real ember-server,
with Redis's semantics and reply texts: through redis-py over TCP and over
the Unix socket, through redis-cli, and as inline commands on a raw socket.
"""

import os
import random
import re
import socket
import subprocess
import threading
import time
import unittest

import redis

from ember_fixture import HERE, EmberServer, EmberTestCase, RawConnection

SERVER = None
INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


def setUpModule():
    global SERVER
    SERVER = EmberServer()
    unittest.addModuleCleanup(SERVER.cleanup)
    SERVER.start()


def table_commands():
    """The command names of server/command_table.cc."""
    path = os.path.join(HERE, "..", "..", "server", "command_table.cc")
    with open(path) as f:
        return set(re.findall(r'^\s*\{"([a-z_]+)",\s*-?\d+,', f.read(), re.M))


class OverTcp:
    def make_client(self, **kwargs):
        return SERVER.client(**kwargs)


class OverUnixSocket:
    def make_client(self, **kwargs):
        return SERVER.unix_client(**kwargs)


class ClientTest(EmberTestCase):
    """Each test starts with an empty keyspace and a fresh client."""

    def setUp(self):
        self.server = SERVER
        self.r = self.make_client()
        self.addCleanup(self.r.close)
        self.assertTrue(self.r.flushall())

    def call(self, *args):
        """One command and its reply as the server sent it: no redis-py
        response callback (which would turn +OK into True, and so on)."""
        conn = self.r.connection_pool.get_connection(args[0])
        try:
            conn.send_command(*args)
            return conn.read_response()
        finally:
            self.r.connection_pool.release(conn)

    def assertError(self, text, fn, *args, **kwargs):
        """fn(*args) fails with exactly this error text (redis-py strips
        the "ERR " code, other codes such as NOPROTO stay)."""
        with self.assertRaises(redis.ResponseError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(str(cm.exception), text)


# -- strings -----------------------------------------------------------------

class StringCommands:
    def test_get_of_a_missing_key_is_nil(self):
        self.assertIsNone(self.r.get("missing"))

    def test_set_then_get_returns_the_value(self):
        self.assertTrue(self.r.set("k", "v"))
        self.assertEqual(self.r.get("k"), b"v")

    def test_set_overwrites_and_clears_the_ttl(self):
        self.r.set("k", "v1", ex=100)
        self.r.set("k", "v2")
        self.assertEqual(self.r.get("k"), b"v2")
        self.assertEqual(self.r.ttl("k"), -1)

    def test_set_ex_sets_a_ttl_in_seconds(self):
        self.assertTrue(self.r.set("k", "v", ex=100))
        self.assertIn(self.r.ttl("k"), (99, 100))
        self.assertTrue(99_000 <= self.r.pttl("k") <= 100_000)

    def test_set_px_sets_a_ttl_in_milliseconds_and_the_key_expires(self):
        self.assertTrue(self.r.set("k", "v", px=150))
        self.assertTrue(0 < self.r.pttl("k") <= 150)
        time.sleep(0.3)
        self.assertIsNone(self.r.get("k"))
        self.assertEqual(self.r.exists("k"), 0)
        self.assertEqual(self.r.ttl("k"), -2)

    def test_set_exat_and_pxat_set_an_absolute_expiry(self):
        now = time.time()
        self.assertTrue(self.r.set("a", "v", exat=int(now) + 100))
        self.assertIn(self.r.ttl("a"), (98, 99, 100))
        self.assertTrue(self.r.set("b", "v", pxat=int(now * 1000) + 100_000))
        self.assertTrue(98_000 <= self.r.pttl("b") <= 100_000)

    def test_set_exat_in_the_past_replies_ok_and_the_key_is_gone(self):
        self.r.set("k", "old")
        self.assertTrue(self.r.set("k", "v", exat=int(time.time()) - 10))
        self.assertIsNone(self.r.get("k"))

    def test_set_rejects_a_zero_or_negative_expire_time(self):
        msg = "invalid expire time in 'set' command"
        self.assertError(msg, self.r.execute_command, "SET", "k", "v", "EX", 0)
        self.assertError(msg, self.r.execute_command, "SET", "k", "v", "PX",
                         -5)
        self.assertIsNone(self.r.get("k"))

    def test_set_rejects_an_ex_beyond_int64_milliseconds(self):
        self.assertError("invalid expire time in 'set' command",
                         self.r.execute_command, "SET", "k", "v", "EX",
                         str(INT64_MAX // 1000 + 1))

    def test_set_rejects_a_relative_expire_that_overflows_int64(self):
        for opts in (("PX", str(INT64_MAX)), ("EX", str(INT64_MAX // 1000))):
            with self.subTest(opts=opts):
                self.assertError("invalid expire time in 'set' command",
                                 self.r.execute_command, "SET", "k", "v",
                                 *opts)
        self.assertIsNone(self.r.get("k"))

    def test_set_pxat_int64_max_is_accepted(self):
        self.assertTrue(self.r.set("k", "v", pxat=INT64_MAX))
        self.assertGreater(self.r.pttl("k"), 2**62)

    def test_set_rejects_a_non_integer_expire_time(self):
        self.assertError("value is not an integer or out of range",
                         self.r.execute_command, "SET", "k", "v", "EX", "1.5")

    def test_set_nx_sets_only_a_missing_key(self):
        self.assertTrue(self.r.set("k", "v1", nx=True))
        self.assertIsNone(self.r.set("k", "v2", nx=True))
        self.assertEqual(self.r.get("k"), b"v1")

    def test_set_xx_sets_only_an_existing_key(self):
        self.assertIsNone(self.r.set("k", "v1", xx=True))
        self.assertIsNone(self.r.get("k"))
        self.r.set("k", "v1")
        self.assertTrue(self.r.set("k", "v2", xx=True))
        self.assertEqual(self.r.get("k"), b"v2")

    def test_set_keepttl_keeps_the_ttl(self):
        self.r.set("k", "v1", ex=100)
        self.assertTrue(self.r.set("k", "v2", keepttl=True))
        self.assertEqual(self.r.get("k"), b"v2")
        self.assertIn(self.r.ttl("k"), (99, 100))

    def test_set_get_returns_the_old_value(self):
        self.assertIsNone(self.r.set("k", "v1", get=True))
        self.assertEqual(self.r.set("k", "v2", get=True), b"v1")
        self.assertEqual(self.r.get("k"), b"v2")

    def test_set_nx_get_returns_the_old_value_and_keeps_it(self):
        self.r.set("k", "v1")
        self.assertEqual(self.call("SET", "k", "v2", "NX", "GET"), b"v1")
        self.assertEqual(self.r.get("k"), b"v1")

    def test_set_with_conflicting_options_is_a_syntax_error(self):
        for opts in (("NX", "XX"), ("EX", "10", "PX", "100"),
                     ("EX", "10", "KEEPTTL"), ("BOGUS",), ("EX",)):
            with self.subTest(opts=opts):
                self.assertError("syntax error", self.r.execute_command,
                                 "SET", "k", "v", *opts)
        self.assertIsNone(self.r.get("k"))

    def test_set_options_are_case_insensitive(self):
        self.assertTrue(self.r.execute_command("set", "k", "v", "ex", "100",
                                               "nx"))
        self.assertIn(self.r.ttl("k"), (99, 100))

    def test_getdel_returns_the_value_and_deletes_the_key(self):
        self.r.set("k", "v")
        self.assertEqual(self.r.getdel("k"), b"v")
        self.assertIsNone(self.r.get("k"))
        self.assertIsNone(self.r.getdel("k"))

    def test_mset_sets_every_pair_and_mget_returns_them_in_order(self):
        self.assertTrue(self.r.mset({"a": "1", "b": "2", "c": "3"}))
        self.assertEqual(self.r.mget("c", "missing", "a", "b"),
                         [b"3", None, b"1", b"2"])

    def test_mset_with_an_odd_number_of_arguments_is_an_arity_error(self):
        self.assertError("wrong number of arguments for 'mset' command",
                         self.r.execute_command, "MSET", "a", "1", "b")
        self.assertIsNone(self.r.get("a"))

    def test_incr_and_decr_count_from_zero(self):
        self.assertEqual(self.r.incr("n"), 1)
        self.assertEqual(self.r.incr("n"), 2)
        self.assertEqual(self.r.decr("n"), 1)
        self.assertEqual(self.r.decr("fresh"), -1)
        self.assertEqual(self.r.get("n"), b"1")

    def test_incrby_and_decrby_add_and_subtract(self):
        self.r.set("n", "10")
        self.assertEqual(self.r.incrby("n", 5), 15)
        self.assertEqual(self.r.decrby("n", 20), -5)
        self.assertEqual(self.r.incrby("n", -5), -10)
        self.assertEqual(self.r.get("n"), b"-10")

    def test_incr_keeps_the_ttl(self):
        self.r.set("n", "1", ex=100)
        self.assertEqual(self.r.incr("n"), 2)
        self.assertIn(self.r.ttl("n"), (99, 100))

    def test_incr_of_a_non_integer_value_is_an_error(self):
        for value in ("abc", "1.5", " 1", "1 ", "", "01",
                      "99999999999999999999"):
            with self.subTest(value=value):
                self.r.set("n", value)
                self.assertError("value is not an integer or out of range",
                                 self.r.incr, "n")
                self.assertEqual(self.r.get("n"), value.encode())

    def test_incrby_with_a_non_integer_increment_is_an_error(self):
        self.assertError("value is not an integer or out of range",
                         self.r.execute_command, "INCRBY", "n", "x")
        self.assertError("value is not an integer or out of range",
                         self.r.execute_command, "DECRBY", "n", "1.0")
        self.assertIsNone(self.r.get("n"))

    def test_incr_past_int64_max_is_an_overflow_error(self):
        self.r.set("n", str(INT64_MAX))
        self.assertError("increment or decrement would overflow",
                         self.r.incr, "n")
        self.r.set("m", str(INT64_MIN))
        self.assertError("increment or decrement would overflow",
                         self.r.decr, "m")
        self.r.set("p", "1")
        self.assertError("increment or decrement would overflow",
                         self.r.incrby, "p", INT64_MAX)
        self.assertEqual(self.r.get("n"), str(INT64_MAX).encode())
        self.assertEqual(self.r.incrby("q", INT64_MIN), INT64_MIN)

    def test_decrby_int64_min_is_a_decrement_overflow_error(self):
        self.assertError("decrement would overflow", self.r.execute_command,
                         "DECRBY", "n", str(INT64_MIN))

    def test_append_creates_or_extends_and_returns_the_length(self):
        self.assertEqual(self.r.append("k", "hello"), 5)
        self.assertEqual(self.r.append("k", " world"), 11)
        self.assertEqual(self.r.get("k"), b"hello world")

    def test_append_keeps_the_ttl(self):
        self.r.set("k", "a", ex=100)
        self.r.append("k", "b")
        self.assertIn(self.r.ttl("k"), (99, 100))

    def test_strlen_is_the_value_length_or_zero(self):
        self.r.set("k", "hello")
        self.assertEqual(self.r.strlen("k"), 5)
        self.assertEqual(self.r.strlen("missing"), 0)


# -- keys --------------------------------------------------------------------

class KeyCommands:
    def test_del_counts_only_keys_that_existed(self):
        self.r.mset({"a": "1", "b": "2"})
        self.assertEqual(self.r.delete("a", "b", "c", "a"), 2)
        self.assertEqual(self.r.mget("a", "b"), [None, None])
        self.assertEqual(self.r.delete("a"), 0)

    def test_unlink_removes_keys_like_del(self):
        self.r.mset({"a": "1", "b": "2"})
        self.assertEqual(self.r.unlink("a", "b", "c"), 2)
        self.assertEqual(self.r.exists("a", "b"), 0)

    def test_exists_counts_every_argument_including_repeats(self):
        self.r.mset({"a": "1", "b": "2"})
        self.assertEqual(self.r.exists("a"), 1)
        self.assertEqual(self.r.exists("a", "a", "b", "nope"), 3)
        self.assertEqual(self.r.exists("nope"), 0)

    def test_expire_sets_a_ttl_and_returns_1_or_0_for_a_missing_key(self):
        self.r.set("k", "v")
        self.assertTrue(self.r.expire("k", 100))
        self.assertIn(self.r.ttl("k"), (99, 100))
        self.assertFalse(self.r.expire("missing", 100))

    def test_pexpire_sets_a_ttl_in_milliseconds_and_the_key_expires(self):
        self.r.set("k", "v")
        self.assertTrue(self.r.pexpire("k", 150))
        self.assertTrue(0 < self.r.pttl("k") <= 150)
        time.sleep(0.3)
        self.assertEqual(self.r.exists("k"), 0)

    def test_expire_with_a_past_time_deletes_the_key(self):
        self.r.set("k", "v")
        self.assertTrue(self.r.expire("k", -1))
        self.assertIsNone(self.r.get("k"))

    def test_expire_nx_sets_only_when_there_is_no_ttl(self):
        self.r.set("k", "v")
        self.assertTrue(self.r.expire("k", 100, nx=True))
        self.assertFalse(self.r.expire("k", 200, nx=True))
        self.assertIn(self.r.ttl("k"), (99, 100))

    def test_expire_xx_sets_only_when_there_is_a_ttl(self):
        self.r.set("k", "v")
        self.assertFalse(self.r.expire("k", 100, xx=True))
        self.assertEqual(self.r.ttl("k"), -1)
        self.r.expire("k", 100)
        self.assertTrue(self.r.expire("k", 200, xx=True))
        self.assertIn(self.r.ttl("k"), (199, 200))

    def test_expire_gt_sets_only_a_greater_ttl_and_no_ttl_is_infinite(self):
        self.r.set("k", "v")
        self.assertFalse(self.r.expire("k", 100, gt=True))
        self.assertEqual(self.r.ttl("k"), -1)
        self.r.expire("k", 100)
        self.assertFalse(self.r.expire("k", 50, gt=True))
        self.assertTrue(self.r.expire("k", 200, gt=True))
        self.assertIn(self.r.ttl("k"), (199, 200))

    def test_expire_lt_sets_only_a_lesser_ttl_and_no_ttl_is_infinite(self):
        self.r.set("k", "v")
        self.assertTrue(self.r.expire("k", 200, lt=True))
        self.assertFalse(self.r.expire("k", 300, lt=True))
        self.assertTrue(self.r.pexpire("k", 100_000, lt=True))
        self.assertIn(self.r.ttl("k"), (99, 100))

    def test_expire_rejects_incompatible_and_unknown_options(self):
        self.r.set("k", "v")
        msg = "NX and XX, GT or LT options at the same time are not compatible"
        self.assertError(msg, self.r.execute_command, "EXPIRE", "k", "10",
                         "NX", "XX")
        self.assertError("GT and LT options at the same time are not "
                         "compatible", self.r.execute_command, "EXPIRE", "k",
                         "10", "GT", "LT")
        self.assertError("Unsupported option FOO", self.r.execute_command,
                         "EXPIRE", "k", "10", "FOO")
        self.assertError("value is not an integer or out of range",
                         self.r.execute_command, "EXPIRE", "k", "ten")
        self.assertEqual(self.r.ttl("k"), -1)

    def test_ttl_and_pttl_are_minus_2_for_missing_and_minus_1_for_no_ttl(self):
        self.assertEqual(self.r.ttl("missing"), -2)
        self.assertEqual(self.r.pttl("missing"), -2)
        self.r.set("k", "v")
        self.assertEqual(self.r.ttl("k"), -1)
        self.assertEqual(self.r.pttl("k"), -1)

    def test_persist_removes_the_ttl_once(self):
        self.r.set("k", "v", ex=100)
        self.assertTrue(self.r.persist("k"))
        self.assertEqual(self.r.ttl("k"), -1)
        self.assertFalse(self.r.persist("k"))
        self.assertFalse(self.r.persist("missing"))
        self.assertEqual(self.r.get("k"), b"v")

    def test_type_is_string_or_none(self):
        self.r.set("k", "v")
        self.assertEqual(self.r.type("k"), b"string")
        self.assertEqual(self.r.type("missing"), b"none")

    def test_dbsize_counts_live_keys(self):
        self.assertEqual(self.r.dbsize(), 0)
        self.r.mset({f"k{i}": i for i in range(25)})
        self.r.set("short", "v", px=100)
        self.assertEqual(self.r.dbsize(), 26)
        time.sleep(0.25)
        self.assertEqual(self.r.dbsize(), 25)

    def test_flushall_removes_every_key(self):
        self.r.mset({f"k{i}": i for i in range(50)})
        self.assertTrue(self.r.flushall())
        self.assertEqual(self.r.dbsize(), 0)
        self.assertIsNone(self.r.get("k1"))
        self.assertTrue(self.r.execute_command("FLUSHALL", "ASYNC"))
        self.assertError("syntax error", self.r.execute_command, "FLUSHALL",
                         "NOW")

    def test_scan_iter_visits_every_key_exactly_once(self):
        keys = {f"key:{i}".encode() for i in range(1000)}
        self.r.mset({k: b"x" for k in keys})
        seen = list(self.r.scan_iter(count=37))
        self.assertEqual(len(seen), len(keys))
        self.assertEqual(set(seen), keys)

    def test_scan_match_returns_only_matching_keys(self):
        self.r.mset({f"user:{i}": i for i in range(100)})
        self.r.mset({f"item:{i}": i for i in range(100)})
        users = set(self.r.scan_iter(match="user:*", count=20))
        self.assertEqual(users, {f"user:{i}".encode() for i in range(100)})
        self.assertEqual(set(self.r.scan_iter(match="item:1?")),
                         {f"item:1{i}".encode() for i in range(10)})
        self.assertEqual(set(self.r.scan_iter(match="item:[2-3]")),
                         {b"item:2", b"item:3"})

    def test_scan_count_bounds_a_page_and_returns_a_cursor(self):
        self.r.mset({f"k{i}": i for i in range(100)})
        cursor, page = self.r.scan(0, count=10)
        self.assertNotEqual(cursor, 0)
        self.assertTrue(1 <= len(page) <= 10, page)
        cursor, page = self.r.scan(0, count=1000)
        self.assertEqual(cursor, 0)
        self.assertEqual(len(page), 100)

    def test_scan_of_an_empty_keyspace_returns_cursor_0_and_no_keys(self):
        self.assertEqual(self.r.scan(0), (0, []))

    def test_scan_rejects_a_bad_cursor_and_bad_count(self):
        self.assertError("invalid cursor", self.r.execute_command, "SCAN",
                         "abc")
        self.assertError("value is not an integer or out of range",
                         self.r.execute_command, "SCAN", "0", "COUNT", "x")
        self.assertError("syntax error", self.r.execute_command, "SCAN", "0",
                         "COUNT", "0")


# -- server and connection ---------------------------------------------------

class ServerCommands:
    def test_ping_replies_pong_or_echoes_its_argument(self):
        self.assertTrue(self.r.ping())
        self.assertEqual(self.call("PING"), b"PONG")
        self.assertEqual(self.call("PING", "hi"), b"hi")
        self.assertError("wrong number of arguments for 'ping' command",
                         self.r.execute_command, "PING", "a", "b")

    def test_echo_returns_its_argument(self):
        self.assertEqual(self.r.echo("hello"), b"hello")
        self.assertEqual(self.r.echo(b"a\x00b\r\n"), b"a\x00b\r\n")

    def test_info_parses_into_every_section(self):
        info = self.r.info("everything")
        for key in ("redis_version", "tcp_port", "connected_clients",
                    "used_memory_rss", "arena_bytes", "fsync",
                    "keyspace_hits", "keyspace_misses", "hot_hits",
                    "cold_hits", "promotions", "evicted_keys",
                    "total_commands_processed"):
            self.assertIn(key, info)
        self.assertEqual(info["tcp_port"], SERVER.port)
        self.assertEqual(info["arena_name"], SERVER.name)
        self.assertEqual(info["arena_bytes"], 64 << 20)
        self.assertGreaterEqual(info["connected_clients"], 1)
        self.assertEqual(info["aof_last_write_status"], "ok")

    def test_info_section_shows_only_that_section(self):
        stats = self.r.info("stats")
        self.assertIn("keyspace_hits", stats)
        self.assertNotIn("redis_version", stats)
        server = self.r.info("server")
        self.assertIn("redis_version", server)
        self.assertNotIn("keyspace_hits", server)

    def test_info_keyspace_counts_keys(self):
        self.assertEqual(self.r.info("keyspace"), {})
        self.r.mset({"a": 1, "b": 2, "c": 3})
        self.assertEqual(self.r.info("keyspace")["db0"]["keys"], 3)

    def test_info_keyspace_counts_keys_with_a_ttl_as_expires(self):
        self.r.set("a", 1)
        self.r.set("b", 2, ex=100)
        self.r.set("c", 3, ex=200)
        db0 = self.r.info("keyspace")["db0"]
        self.assertEqual((db0["keys"], db0["expires"]), (3, 2))

    def test_info_stats_count_hits_and_misses(self):
        before = self.r.info("stats")
        self.r.set("k", "v")
        self.r.get("k")
        self.r.get("missing")
        after = self.r.info("stats")
        self.assertEqual(after["keyspace_hits"] - before["keyspace_hits"], 1)
        self.assertEqual(after["keyspace_misses"] - before["keyspace_misses"],
                         1)

    def test_config_get_returns_settings_by_name_and_glob(self):
        self.assertEqual(self.r.config_get("bind"), {"bind": "127.0.0.1"})
        self.assertEqual(self.r.config_get("name"), {"name": SERVER.name})
        self.assertEqual(self.r.config_get("maxclients"),
                         {"maxclients": "10000"})
        self.assertEqual(self.r.config_get("arena_bytes"),
                         {"arena_bytes": str(64 << 20)})
        fsync = self.r.config_get("*fsync")
        self.assertEqual(fsync, {"fsync": "everysec",
                                 "appendfsync": "everysec"})
        self.assertEqual(self.r.config_get("no_such_setting"), {})
        # Started with --port 0: the port in use, not the 0 asked for.
        self.assertEqual(self.r.config_get("port"),
                         {"port": str(SERVER.port)})

    def test_config_get_hides_requirepass(self):
        self.assertNotIn("requirepass", self.r.config_get("*"))

    def test_auth_without_a_configured_password_is_an_error(self):
        self.assertError(
            "AUTH <password> called without any password configured for the "
            "default user. Are you sure your configuration is correct?",
            self.r.execute_command, "AUTH", "secret")

    def test_hello_2_returns_the_server_map_as_an_array(self):
        reply = self.r.execute_command("HELLO", "2")
        fields = dict(zip(reply[0::2], reply[1::2]))
        self.assertEqual(fields[b"proto"], 2)
        self.assertEqual(fields[b"server"], b"ember")
        self.assertEqual(fields[b"mode"], b"standalone")
        self.assertEqual(fields[b"role"], b"master")
        self.assertEqual(fields[b"id"], self.r.client_id())

    def test_hello_without_arguments_returns_the_server_map(self):
        reply = self.call("HELLO")
        self.assertEqual(reply[reply.index(b"proto") + 1], 2)

    def test_hello_3_is_refused_with_noproto(self):
        self.assertError("NOPROTO unsupported protocol version",
                         self.r.execute_command, "HELLO", "3")

    def test_hello_setname_names_the_connection(self):
        self.r.execute_command("HELLO", "2", "SETNAME", "viahello")
        self.assertEqual(self.call("CLIENT", "GETNAME"), b"viahello")

    def test_client_setname_and_getname(self):
        self.assertIsNone(self.call("CLIENT", "GETNAME"))
        self.assertEqual(self.call("CLIENT", "SETNAME", "worker-1"), b"OK")
        self.assertEqual(self.call("CLIENT", "GETNAME"), b"worker-1")
        self.assertError(
            "Client names cannot contain spaces, newlines or special "
            "characters.", self.r.client_setname, "has space")

    def test_client_id_is_an_integer_unique_per_connection(self):
        other = self.make_client()
        self.addCleanup(other.close)
        a, b = self.r.client_id(), other.client_id()
        self.assertIsInstance(a, int)
        self.assertNotEqual(a, b)
        self.assertEqual(self.r.client_id(), a)

    def test_command_count_is_the_size_of_the_command_table(self):
        self.assertEqual(self.r.command_count(), len(table_commands()))

    def test_command_lists_every_command_of_the_table(self):
        reply = self.call("COMMAND")
        names = {entry[0].decode() for entry in reply}
        self.assertEqual(names, table_commands())

    def test_select_0_to_15_is_ok_and_select_16_is_out_of_range(self):
        self.assertEqual(self.call("SELECT", "0"), b"OK")
        self.assertEqual(self.call("SELECT", "15"), b"OK")
        self.assertIn(b" db=15 ", self.call("CLIENT", "INFO"))
        self.assertEqual(self.call("RESET"), b"RESET")
        self.assertIn(b" db=0 ", self.call("CLIENT", "INFO"))
        self.assertError("DB index is out of range", self.r.execute_command,
                         "SELECT", "16")
        self.assertError("value is not an integer or out of range",
                         self.r.execute_command, "SELECT", "x")

    def test_unknown_command_gets_redis_error_text(self):
        self.assertError(
            "unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ",
            self.r.execute_command, "NOSUCHCMD", "a", "b")
        self.assertError(
            "unknown command 'foo', with args beginning with: ",
            self.r.execute_command, "foo")

    def test_wrong_arity_gets_redis_error_text(self):
        self.assertError("wrong number of arguments for 'get' command",
                         self.r.execute_command, "GET")
        self.assertError("wrong number of arguments for 'get' command",
                         self.r.execute_command, "GET", "a", "b")
        self.assertError("wrong number of arguments for 'set' command",
                         self.r.execute_command, "SET", "a")

    def test_commands_are_case_insensitive(self):
        self.assertTrue(self.r.execute_command("sEt", "k", "v"))
        self.assertEqual(self.r.execute_command("get", "k"), b"v")

    def test_quit_replies_ok_and_closes_the_connection(self):
        conn = self.r.connection_pool.get_connection("QUIT")
        try:
            conn.send_command("QUIT")
            self.assertEqual(conn.read_response(), b"OK")
            with self.assertRaises(redis.ConnectionError):
                conn.send_command("PING")
                conn.read_response()
        finally:
            conn.disconnect()
        self.assertTrue(self.make_client().ping())


# -- pipelines and values ----------------------------------------------------

class Pipelines:
    def test_a_pipeline_of_1000_mixed_commands_replies_in_order(self):
        p = self.r.pipeline(transaction=False)
        expected = []
        for i in range(250):
            p.set(f"k{i}", f"v{i}")
            expected.append(True)
            p.get(f"k{i}")
            expected.append(f"v{i}".encode())
            p.incr(f"n{i % 10}")
            expected.append(i // 10 + 1)
            p.exists(f"k{i}", f"missing{i}")
            expected.append(1)
        self.assertEqual(len(expected), 1000)
        self.assertEqual(p.execute(), expected)
        self.assertEqual(self.r.get("n3"), b"25")

    def test_a_pipeline_reads_its_own_writes(self):
        p = self.r.pipeline(transaction=False)
        p.set("c", "41")
        p.get("c")
        p.incr("c")
        p.get("c")
        p.delete("c")
        p.get("c")
        p.append("c", "x")
        p.strlen("c")
        self.assertEqual(p.execute(), [True, b"41", 42, b"42", 1, None, 1, 1])

    def test_a_pipeline_with_an_error_still_answers_every_command(self):
        p = self.r.pipeline(transaction=False)
        p.set("s", "text")
        p.incr("s")
        p.get("s")
        replies = p.execute(raise_on_error=False)
        self.assertEqual(replies[0], True)
        self.assertIsInstance(replies[1], redis.ResponseError)
        self.assertEqual(replies[2], b"text")

    def test_a_pipeline_longer_than_the_server_reply_window_stays_in_order(
            self):
        # 40000 commands: far more than the 4096 replies a connection may
        # have outstanding before the server stops reading it.
        p = self.r.pipeline(transaction=False)
        for _ in range(20000):
            p.incr("n")
            p.get("n")
        replies = p.execute()
        self.assertEqual(len(replies), 40000)
        for i in range(20000):
            pair = replies[2 * i:2 * i + 2]
            if pair != [i + 1, b"%d" % (i + 1)]:
                self.fail(f"replies {2 * i}, {2 * i + 1}: {pair}")

    def test_concurrent_clients_lose_no_increment(self):
        def work():
            c = self.make_client()
            try:
                for _ in range(250):
                    c.incr("shared")
            finally:
                c.close()
        threads = [threading.Thread(target=work) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.r.get("shared"), b"4000")

    def test_a_write_is_visible_to_another_connection_once_acknowledged(self):
        other = self.make_client()
        self.addCleanup(other.close)
        for i in range(100):
            self.r.set("shared", i)
            self.assertEqual(other.get("shared"), str(i).encode())


class BinaryValues:
    def test_values_with_nul_bytes_and_crlf_round_trip(self):
        values = {b"nul": b"a\x00b\x00", b"crlf": b"line1\r\nline2\r\n",
                  b"all": bytes(range(256)), b"empty": b"",
                  b"k\x00ey\r\n": b"binary key"}
        self.r.mset(values)
        for k, v in values.items():
            self.assertEqual(self.r.get(k), v)
            self.assertEqual(self.r.strlen(k), len(v))
        self.assertEqual(self.r.append(b"nul", b"\r\n\x00"), 7)
        self.assertEqual(self.r.get(b"nul"), b"a\x00b\x00\r\n\x00")

    def test_long_and_empty_keys_round_trip(self):
        # Keys longer than the arena takes (64 KiB) stay in RocksDB.
        for n in (0, 1, 60_000, 100_000, 1 << 20):
            key = b"K" * n
            with self.subTest(key_bytes=n):
                self.assertTrue(self.r.set(key, b"v%d" % n))
                self.assertEqual(self.r.get(key), b"v%d" % n)
                self.assertEqual(self.r.exists(key), 1)
                self.assertEqual(self.r.delete(key), 1)
                self.assertIsNone(self.r.get(key))

    def test_a_1_mib_value_round_trips_through_the_cold_tier(self):
        # 1 MiB > max_value_bytes_hot (256 KiB): never in the arena; read
        # from the dirty table until the applier has it in RocksDB.
        value = os.urandom(1 << 20)
        self.assertTrue(self.r.set("big", value))
        before = self.r.info("stats")
        self.assertEqual(self.r.get("big"), value)
        self.assertEqual(self.r.get("big"), value)
        self.assertEqual(self.r.strlen("big"), 1 << 20)
        after = self.r.info("stats")

        def off_arena(i):
            return i["cold_hits"] + i["dirty_hits"]
        self.assertEqual(off_arena(after) - off_arena(before), 3)
        self.assertEqual(after["hot_hits"], before["hot_hits"])
        self.assertEqual(self.r.getdel("big"), value)
        self.assertIsNone(self.r.get("big"))

    def test_many_1_mib_values_in_one_pipeline_round_trip(self):
        values = {f"big{i}": os.urandom(1 << 20) for i in range(8)}
        p = self.r.pipeline(transaction=False)
        for k, v in values.items():
            p.set(k, v)
        self.assertEqual(p.execute(), [True] * 8)
        self.assertEqual(self.r.mget(list(values)), list(values.values()))


for _transport in (OverTcp, OverUnixSocket):
    for _group in (StringCommands, KeyCommands, ServerCommands, Pipelines,
                   BinaryValues):
        _name = _group.__name__ + _transport.__name__
        globals()[_name] = type(_name, (_transport, _group, ClientTest), {})
del _transport, _group, _name


# -- redis-cli and inline commands -------------------------------------------

class RedisCli(EmberTestCase):
    def setUp(self):
        self.server = SERVER

    def cli(self, *args):
        out = subprocess.run(["redis-cli", *args], capture_output=True,
                             timeout=30, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_redis_cli_sets_and_gets_over_tcp(self):
        port = str(SERVER.port)
        self.assertEqual(self.cli("-p", port, "set", "cli:k", "v"), "OK\n")
        self.assertEqual(self.cli("-p", port, "get", "cli:k"), "v\n")
        self.assertEqual(self.cli("-p", port, "incr", "cli:n"), "1\n")
        self.assertEqual(self.cli("-p", port, "get", "cli:none"), "\n")

    def test_redis_cli_pings_over_the_unix_socket(self):
        self.assertEqual(self.cli("-s", SERVER.unix_socket, "ping"), "PONG\n")

    def test_redis_cli_shows_errors(self):
        out = self.cli("-p", str(SERVER.port), "nosuch")
        self.assertEqual(
            out.strip(),
            "ERR unknown command 'nosuch', with args beginning with:")

    def test_redis_cli_runs_commands_from_stdin(self):
        script = "set cli:a 1\nincrby cli:a 41\nget cli:a\ndel cli:a\n"
        out = subprocess.run(["redis-cli", "-p", str(SERVER.port)],
                             input=script, capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "OK\n42\n42\n1\n")


class InlineCommands(EmberTestCase):
    def setUp(self):
        self.server = SERVER
        self.c = RawConnection(SERVER.port)
        self.addCleanup(self.c.close)

    def test_inline_ping_replies_pong(self):
        self.c.send(b"PING\r\n")
        self.assertEqual(self.c.read_reply(), b"+PONG")

    def test_inline_set_then_get(self):
        self.c.send(b"SET inline:a b\r\n")
        self.assertEqual(self.c.read_reply(), b"+OK")
        self.c.send(b"GET inline:a\r\n")
        self.assertEqual(self.c.read_reply(), b"b")

    def test_inline_commands_accept_a_bare_newline_and_quotes(self):
        self.c.send(b'SET inline:q "hello world\\r\\n"\nGET inline:q\n')
        self.assertEqual(self.c.read_reply(), b"+OK")
        self.assertEqual(self.c.read_reply(), b"hello world\r\n")

    def test_inline_and_multibulk_requests_mix_in_one_pipeline(self):
        self.c.send(b"PING\r\n*3\r\n$3\r\nSET\r\n$8\r\ninline:m\r\n$1\r\n1"
                    b"\r\nINCR inline:m\r\n\r\n*1\r\n$4\r\nPING\r\n")
        self.assertEqual([self.c.read_reply() for _ in range(4)],
                         [b"+PONG", b"+OK", 2, b"+PONG"])

    def test_a_request_split_into_single_bytes_is_parsed(self):
        for b in b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n":
            self.c.send(bytes([b]))
        self.assertEqual(self.c.read_reply(), b"hello")

    def test_raw_unknown_command_error_text(self):
        self.c.command("FOO", "bar")
        self.assertEqual(
            self.c.read_reply(),
            b"-ERR unknown command 'FOO', with args beginning with: 'bar' ")


class SplitInput(EmberTestCase):
    """The server reads what the socket holds and parses it in place, with
    a remainder carried between reads: requests split anywhere, or larger
    than one read, still frame the same."""

    def setUp(self):
        self.server = SERVER
        self.c = RawConnection(SERVER.port)
        self.c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.addCleanup(self.c.close)

    @staticmethod
    def request(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def pipeline(self, n, value_bytes):
        """n SET/GET/INCR triples and the replies they must get."""
        counter = f"split:n:{self.id()}"
        data, expected = [], []
        for i in range(n):
            value = (b"%d:" % i) * (value_bytes // 4 + 1)
            value = value[:value_bytes]
            data.append(self.request("SET", f"split:{i}", value))
            data.append(self.request("GET", f"split:{i}"))
            data.append(self.request("INCR", counter))
            expected += [b"+OK", value, i + 1]
        return b"".join(data), expected

    def test_a_pipeline_sent_in_small_writes_replies_in_order(self):
        data, expected = self.pipeline(200, 40)
        rng = random.Random(11)
        at = 0
        while at < len(data):
            step = rng.randint(1, 7)
            self.c.send(data[at:at + step])
            at += step
            if rng.random() < 0.01:
                time.sleep(0.005)  # the server waits for readiness again
        self.assertEqual([self.c.read_reply() for _ in expected], expected)

    def test_values_larger_than_one_read_straddle_reads(self):
        # 40 KiB values: each spans several of the server's 16 KiB reads.
        data, expected = self.pipeline(30, 40 * 1024)
        self.c.send(data)
        self.assertEqual([self.c.read_reply() for _ in expected], expected)

    def test_a_command_completed_after_a_pause_is_answered(self):
        data = self.request("SET", "split:pause", "x" * 100)
        for cut in (1, 5, 20, len(data) - 1):
            self.c.send(data[:cut])
            time.sleep(0.02)
            self.c.send(data[cut:])
            self.assertEqual(self.c.read_reply(), b"+OK")


if __name__ == "__main__":
    unittest.main()
