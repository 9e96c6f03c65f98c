"""No silent loss (issue 10): with cold_tier none the arena is the only copy,
so a write it cannot take must be refused, not acknowledged and dropped.
Against the real ember-server with redis-py:

- a value over max_value_bytes_hot, a key over 65534 bytes (65535 with its database byte), an empty key:
  an error in Redis's words for too-long input, checked before anything
  changes (SET, MSET, APPEND, INCR);
- a full arena (arena_bytes 3mb holds two 1 MiB slab pages, so a third size
  class finds no page and the arena answers kBusy): Redis's OOM error;
- every refused command changes nothing: the key keeps its old value, and
  MSET is all-or-nothing;
- the same for the writes of issue 13 (the SET family, SETRANGE, SETBIT,
  BITFIELD, BITOP, RENAME, COPY, INCRBYFLOAT) and that they work with the
  arena alone.

With cold_tier rocksdb the same writes succeed (the value lives in RocksDB
only), as before.
"""

import unittest

import redis

from ember_fixture import EmberServer, EmberTestCase

OOM = "OOM command not allowed when used memory > 'maxmemory'."
TOO_BIG_VALUE = "string exceeds maximum allowed size (max_value_bytes_hot)"
TOO_BIG_KEY = "key exceeds maximum allowed size (65534 bytes)"


class NoColdTierTest(EmberTestCase):
    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer(cold_tier="none", **cls.settings)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.r = cls.server.client()
        cls.addClassCleanup(cls.r.close)

    def assertRefused(self, text, command, *args):
        with self.assertRaises(redis.ResponseError) as e:
            self.r.execute_command(command, *args)
        self.assertIn(text, str(e.exception))


class OverLimits(NoColdTierTest):
    """The default arena (64 MiB here, 1 MiB pages, max_value_bytes_hot
    256 KiB): limits are checked up front."""

    def test_a_300_kb_value_is_refused_and_the_old_value_kept(self):
        self.r.set("big", "old")
        self.assertRefused(TOO_BIG_VALUE, "SET", "big", b"x" * 300_000)
        self.assertEqual(self.r.get("big"), b"old")

    def test_a_value_of_exactly_max_value_bytes_hot_is_stored(self):
        value = b"y" * (256 << 10)
        self.assertTrue(self.r.set("edge", value))
        self.assertEqual(self.r.get("edge"), value)

    def test_a_70000_byte_key_is_refused(self):
        key = b"k" * 70_000
        self.assertRefused(TOO_BIG_KEY, "SET", key, "v")
        self.assertIsNone(self.r.get(key))
        self.assertRefused(TOO_BIG_KEY, "INCR", key)
        self.assertRefused(TOO_BIG_KEY, "APPEND", key, "v")
        self.assertIsNone(self.r.get(key))

    def test_a_65534_byte_key_is_stored(self):
        key = b"k" * 65534
        self.assertTrue(self.r.set(key, "v"))
        self.assertEqual(self.r.get(key), b"v")

    def test_an_empty_key_is_refused(self):
        self.assertRefused("empty key", "SET", "", "v")
        self.assertIsNone(self.r.get(""))

    def test_an_append_past_the_limit_is_refused_and_the_value_kept(self):
        self.r.set("grow", b"a" * 200_000)
        self.assertRefused(TOO_BIG_VALUE, "APPEND", "grow", b"b" * 100_000)
        self.assertEqual(self.r.strlen("grow"), 200_000)
        self.assertEqual(self.r.append("grow", "b"), 200_001)

    def test_mset_with_one_value_too_big_sets_nothing(self):
        self.r.mset({"m1": "old1", "m2": "old2"})
        self.assertRefused(TOO_BIG_VALUE, "MSET", "m1", "new1", "m3", "new3",
                           "m2", b"z" * 300_000)
        self.assertEqual(self.r.mget("m1", "m2", "m3"),
                         [b"old1", b"old2", None])

    def test_mset_with_one_key_too_long_sets_nothing(self):
        self.r.set("m4", "old4")
        self.assertRefused(TOO_BIG_KEY, "MSET", "m4", "new4", b"k" * 70_000,
                           "v")
        self.assertEqual(self.r.get("m4"), b"old4")

    def test_a_refused_set_in_a_pipeline_leaves_the_others_alone(self):
        self.r.set("p", "old")
        pipe = self.r.pipeline(transaction=False)
        pipe.set("p", "new")
        pipe.set("p", b"x" * 300_000)
        pipe.get("p")
        pipe.incr("n")
        replies = pipe.execute(raise_on_error=False)
        self.assertIs(replies[0], True)
        self.assertIsInstance(replies[1], redis.ResponseError)
        self.assertEqual(replies[2], b"new")
        self.assertEqual(replies[3], 1)
        self.assertEqual(self.r.get("p"), b"new")


class StringAndKeyCommandsOverLimits(NoColdTierTest):
    """The writes of issue 13 refuse what the arena cannot hold as SET does,
    before anything changes."""

    def test_the_set_family_refuses_a_value_over_the_limit(self):
        big = b"x" * 300_000
        self.r.set("k", "old")
        for command in (("SETNX", "new", big), ("SETEX", "k", "100", big),
                        ("PSETEX", "k", "100000", big), ("GETSET", "k", big),
                        ("MSETNX", "n1", "v", "n2", big)):
            with self.subTest(command=command[0]):
                self.assertRefused(TOO_BIG_VALUE, *command)
        self.assertEqual(self.r.get("k"), b"old")
        self.assertEqual(self.r.ttl("k"), -1)
        self.assertEqual(self.r.exists("new", "n1", "n2"), 0)

    def test_growing_a_value_past_the_limit_keeps_the_old_one(self):
        self.r.set("g", b"a" * 200_000)
        past = 300_000
        for command in (("SETRANGE", "g", str(past), "b"),
                        ("SETBIT", "g", str(past * 8), "1"),
                        ("BITFIELD", "g", "SET", "u8", str(past * 8), "1"),
                        ("SETRANGE", "fresh", str(past), "b"),
                        ("SETBIT", "fresh", str(past * 8), "1")):
            with self.subTest(command=command):
                self.assertRefused(TOO_BIG_VALUE, *command)
        self.assertEqual(self.r.get("g"), b"a" * 200_000)
        self.assertEqual(self.r.exists("fresh"), 0)

    def test_a_new_key_over_the_limit_is_refused_and_the_source_kept(self):
        key = b"k" * 70_000
        self.r.set("src", "1.5", ex=100)
        for command in (("RENAME", "src", key), ("RENAMENX", "src", key),
                        ("COPY", "src", key), ("INCRBYFLOAT", key, "1"),
                        ("BITOP", "OR", key, "src"),
                        ("SETRANGE", key, "0", "x"), ("SETBIT", key, "0", "1"),
                        ("SETNX", key, "v")):
            with self.subTest(command=command[0]):
                self.assertRefused(TOO_BIG_KEY, *command)
        self.assertEqual(self.r.get("src"), b"1.5")
        self.assertGreater(self.r.ttl("src"), 90)
        self.assertEqual(self.r.exists(key), 0)

    def test_the_new_writes_work_in_the_arena_alone(self):
        self.r.set("a", "hello", ex=100)
        self.assertEqual(self.r.setrange("a", 6, "world"), 11)
        self.assertEqual(self.r.setbit("a", 5 * 8 + 7, 1), 0)
        self.assertEqual(self.r.get("a"), b"hello\x01world")
        self.assertEqual(self.r.incrbyfloat("f", "2.5"), 2.5)
        self.assertEqual(self.r.bitop("NOT", "n", "a"), 11)
        self.assertTrue(self.r.rename("a", "b"))
        self.assertTrue(self.r.copy("b", "c"))
        self.assertEqual(self.r.mget("a", "b", "c"),
                         [None, b"hello\x01world", b"hello\x01world"])
        self.assertGreater(self.r.ttl("c"), 90)
        self.assertEqual(self.r.getex("c", persist=True), b"hello\x01world")
        self.assertEqual(self.r.ttl("c"), -1)
        self.assertTrue(self.r.msetnx({"m1": "1", "m2": "2"}))
        self.assertEqual(self.r.execute_command("BITFIELD", "m1", "INCRBY",
                                                "u8", "0", "1"), [50])


class FullArena(NoColdTierTest):
    """arena_bytes 3mb: two 1 MiB pages. `small` (an item of 34 bytes: the
    40-byte chunks) and `mid` (1027 bytes) take one page each; a third size
    class (5000-byte values) then finds no free page and no class with a page
    to spare: the arena's Put answers kBusy."""

    settings = {"arena_bytes": "3mb"}

    def setUp(self):
        self.r.flushall()
        self.assertTrue(self.r.set("small", "s-old"))
        self.assertTrue(self.r.set("mid", b"m" * 1000))

    def test_a_new_key_in_a_full_arena_gets_oom(self):
        self.assertRefused(OOM, "SET", "third", b"t" * 5000)
        self.assertIsNone(self.r.get("third"))
        self.assertGreater(self.r.info("stats")["arena_put_failures"], 0)

    def test_the_oom_reply_is_redis_s_bytes(self):
        with self.server.raw() as c:
            c.command("SET", "third", b"t" * 5000)
            self.assertEqual(c.read_reply(), b"-" + OOM.encode())

    def test_an_overwrite_that_gets_oom_keeps_the_old_value(self):
        self.assertRefused(OOM, "SET", "small", b"t" * 5000)
        self.assertEqual(self.r.get("small"), b"s-old")
        self.assertRefused(OOM, "APPEND", "mid", b"a" * 4000)
        self.assertEqual(self.r.get("mid"), b"m" * 1000)

    def test_growing_writes_that_get_oom_keep_the_old_value(self):
        self.assertRefused(OOM, "SETRANGE", "small", "4999", "x")
        self.assertRefused(OOM, "SETBIT", "small", str(4999 * 8), "1")
        self.assertEqual(self.r.get("small"), b"s-old")

    def test_mset_that_gets_oom_changes_no_key(self):
        # "mid" and "small" fit (their classes have room) and are published
        # first (key order); "third" does not: both are put back.
        self.assertRefused(OOM, "MSET", "small", "s-new", "mid", b"n" * 1000,
                           "third", b"t" * 5000)
        self.assertEqual(self.r.mget("small", "mid", "third"),
                         [b"s-old", b"m" * 1000, None])

    def test_writes_that_fit_still_succeed(self):
        self.assertRefused(OOM, "SET", "third", b"t" * 5000)
        self.assertTrue(self.r.set("small", "s-new"))
        # 24-byte header + 13 + 1 bytes: the 40-byte chunks of "small".
        self.assertEqual(self.r.incr("counter:small"), 1)
        self.assertEqual(self.r.get("small"), b"s-new")


class WithColdTier(EmberTestCase):
    """cold_tier rocksdb: what the arena cannot hold lives in RocksDB."""

    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer(arena_bytes="3mb")
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.r = cls.server.client()
        cls.addClassCleanup(cls.r.close)

    def test_big_values_long_keys_and_a_full_arena_are_stored_cold(self):
        key = b"k" * 70_000
        self.assertTrue(self.r.set("big", b"x" * 300_000))
        self.assertTrue(self.r.set(key, "v"))
        self.assertTrue(self.r.set("small", "s"))
        self.assertTrue(self.r.set("mid", b"m" * 1000))
        self.assertTrue(self.r.set("third", b"t" * 5000))
        self.assertEqual(self.r.strlen("big"), 300_000)
        self.assertEqual(self.r.get(key), b"v")
        self.assertEqual(self.r.get("third"), b"t" * 5000)

    def test_values_grown_past_max_value_bytes_hot_are_stored_cold(self):
        self.r.set("grow", "a")
        self.assertEqual(self.r.setrange("grow", 299_999, "z"), 300_000)
        self.assertEqual(self.r.setbit("grow", 400_000 * 8, 1), 0)
        self.assertEqual(self.r.strlen("grow"), 400_001)
        self.assertEqual(self.r.getrange("grow", 299_999, 299_999), b"z")
        self.assertTrue(self.r.copy("grow", "copy"))
        self.assertEqual(self.r.get("copy"), self.r.get("grow"))


if __name__ == "__main__":
    unittest.main()
