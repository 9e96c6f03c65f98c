"""What a client learns of the server and of its connection, against a real
redis-server 7 (issue 13): COMMAND (INFO, COUNT, LIST, DOCS, GETKEYS,
GETKEYSANDFLAGS).

Where the reply is deterministic the raw bytes must be equal (COMMAND INFO
of every command Ember has, each error); where it names this connection
(CLIENT LIST, CLIENT INFO) the fields must be Redis's, in Redis's order.
Container commands (CLIENT, CONFIG, ...) list only the subcommands Ember
has, each as Redis describes it.
"""

import unittest

from ember_fixture import EmberServer
from redis_fixture import CompatTestCase, RedisServer, redis_available

CONTAINERS = (b"client", b"command", b"config", b"object", b"slowlog",
              b"latency")
# Ember has it, Redis 7.0 not (7.2 does): accepted and ignored.
NOT_IN_REDIS_7_0 = {b"client|setinfo"}


def setUpModule():
    if not redis_available():
        raise unittest.SkipTest("no /usr/bin/redis-server to compare with")
    ember = EmberServer()
    unittest.addModuleCleanup(ember.cleanup)
    ember.start()
    redis = RedisServer()
    unittest.addModuleCleanup(redis.cleanup)
    redis.start()
    CompatTestCase.ember = ember
    CompatTestCase.redis = redis


class Command(CompatTestCase):
    def ember_commands(self):
        self.e.command("COMMAND", "LIST")
        return self.e.read_reply()

    def test_command_info_of_every_command_is_redis_s(self):
        names = self.ember_commands()
        self.assertIn(b"command|info", names)
        for name in names:
            if name in CONTAINERS or name in NOT_IN_REDIS_7_0:
                continue
            with self.subTest(name=name):
                self.same("COMMAND", "INFO", name)

    def test_containers_list_their_subcommands_as_redis_does(self):
        for name in CONTAINERS:
            with self.subTest(name=name):
                ember, redis = self.both_values("COMMAND", "INFO", name)
                self.assertEqual(ember[0][:9], redis[0][:9])
                theirs = {s[0]: s for s in redis[0][9]}
                ours = [s for s in ember[0][9] if s[0] not in NOT_IN_REDIS_7_0]
                self.assertTrue(ours)
                for sub in ours:
                    self.assertEqual(sub, theirs.get(sub[0]), sub[0])

    def test_command_info_several_names_unknown_and_subcommands(self):
        self.same("COMMAND", "INFO", "get", "nosuch", "GET", "client|list",
                  "object|encoding", "object|nope", "mset")
        self.same("COMMAND", "INFO", "nosuch")

    def test_command_without_arguments_is_every_command_info(self):
        self.e.command("COMMAND")
        ember = self.e.read_reply()
        self.e.command("COMMAND", "COUNT")
        count = self.e.read_reply()
        self.assertEqual(len(ember), count)
        self.e.command("COMMAND", "INFO")
        self.assertEqual(self.e.read_reply(), ember)
        for entry in ember[:5]:
            self.e.command("COMMAND", "INFO", entry[0])
            self.assertEqual(self.e.read_reply(), [entry])

    def test_command_list_filters(self):
        ours = set(self.ember_commands())
        for args in (("ACLCAT", "string"), ("ACLCAT", "connection"),
                     ("ACLCAT", "keyspace"), ("ACLCAT", "nosuch"),
                     ("PATTERN", "client*"), ("PATTERN", "*|l*"),
                     ("PATTERN", "G*"), ("MODULE", "x")):
            with self.subTest(args=args):
                ember, redis = self.both_values("COMMAND", "LIST",
                                                "FILTERBY", *args)
                self.assertEqual(set(ember) - NOT_IN_REDIS_7_0,
                                 set(redis) & ours)
        self.script("COMMAND LIST foo", "COMMAND LIST FILTERBY bogus x",
                    "COMMAND LIST FILTERBY aclcat", "COMMAND COUNT x",
                    "COMMAND foo", "COMMAND INFO nosuch nosuch2")

    def test_getkeys_and_flags(self):
        for c in ("get k", "set k v", "set k v get", "mset a 1 b 2",
                  "mget a b c", "del a b", "bitop and d a b", "lcs a b",
                  "rename a b", "copy a b replace", "object encoding k",
                  "Get k",
                  "getex k ex 10", "bitfield k get u8 0", "mset a 1 b"):
            with self.subTest(c=c):
                self.same("COMMAND", "GETKEYS", *c.split())
                self.same("COMMAND", "GETKEYSANDFLAGS", *c.split())
        self.script("COMMAND GETKEYS get", "COMMAND GETKEYS nosuch a",
                    "COMMAND GETKEYS ping", "COMMAND GETKEYS get a b",
                    "COMMAND GETKEYS keys a", "COMMAND GETKEYS client list",
                    "COMMAND GETKEYS config get x", "COMMAND GETKEYS ping x",
                    "COMMAND GETKEYS object nope k", "COMMAND GETKEYS mset a",
                    "COMMAND GETKEYSANDFLAGS get")

    def test_docs_are_minimal_but_well_formed(self):
        self.e.command("COMMAND", "DOCS")
        ember = self.e.read_reply()
        names = [n for n in self.ember_commands() if b"|" not in n]
        self.assertEqual(len(ember), 2 * len(names))
        docs = dict(zip(ember[::2], ember[1::2]))
        self.assertEqual(set(docs), set(names))
        self.assertEqual(docs[b"get"][:2], [b"group", b"string"])
        self.assertIn(b"subcommands", docs[b"client"])
        self.same("COMMAND", "DOCS", "nosuch")
        self.e.command("COMMAND", "DOCS", "get", "nosuch", "set")
        self.assertEqual(self.e.read_reply()[::2], [b"get", b"set"])

    def test_redis_py_reads_command(self):
        import redis
        c = redis.Redis(port=self.ember.port)
        self.addCleanup(c.close)
        info = c.command()
        self.assertEqual(info["get"]["arity"], 2)
        self.assertEqual(c.command_count(), len(info))
        theirs = redis.Redis(port=self.redis.port)
        self.addCleanup(theirs.close)
        self.assertEqual(c.command_getkeys("MSET", "a", 1, "b", 2),
                         theirs.command_getkeys("MSET", "a", 1, "b", 2))

    def test_help_and_arity(self):
        for c in ("COMMAND",):
            self.e.command(c, "HELP")
            lines = self.e.read_reply()
            self.assertTrue(lines[0].startswith(b"+" + c.encode()), lines)
        self.script("COMMAND HELP x")


if __name__ == "__main__":
    unittest.main()
