"""Bad input against the real ember-server: garbage, absurd lengths, a
million arguments, an over-long inline line, commands before AUTH, wrong
arity. Each gets Redis's error reply (a protocol error: the reply, then the
connection is closed), and afterwards a new connection still gets PONG.
"""

import random
import time
import unittest

from ember_fixture import EmberServer, EmberTestCase

PASSWORD = "s3cret-pw"


class BadInputTest(EmberTestCase):
    """One server per class; after every test it still answers PING."""

    settings = {}

    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer(**cls.settings)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def tearDown(self):
        self.assertTrue(self.server.running(), "the server died")
        self.assertTrue(self.server.ping_ok(),
                        "a second connection does not get PONG")

    def connect(self):
        c = self.server.raw()
        self.addCleanup(c.close)
        return c

    def assertProtocolError(self, request, error, timeout=5.0):
        """`request` gets exactly `error`, then the server closes the
        connection (as Redis does when the stream can no longer be
        framed)."""
        c = self.connect()
        c.sock.settimeout(timeout)
        c.send(request)
        self.assertEqual(c.read_reply(), error)
        self.assertTrue(c.closed_by_server(), "connection left open")
        self.assertEqual(c.buf, b"", "bytes after the protocol error")


class ProtocolErrors(BadInputTest):
    def test_a_non_numeric_multibulk_count_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length")

    def test_garbage_where_a_bulk_header_belongs_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*2\r\n!!garbage!!\r\n",
            b"-ERR Protocol error: expected '$', got '!'")

    def test_a_bulk_length_of_2_to_the_40_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*2\r\n$3\r\nGET\r\n$1099511627776\r\n",
            b"-ERR Protocol error: invalid bulk length")

    def test_a_negative_bulk_length_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*2\r\n$3\r\nGET\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length")

    def test_a_multibulk_count_beyond_int_max_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*4294967296\r\n",
            b"-ERR Protocol error: invalid multibulk length")

    def test_more_arguments_than_the_hard_limit_is_a_protocol_error(self):
        # Ember's own limit (ParserLimits: 1024 * 1024 arguments).
        self.assertProtocolError(
            b"*2000000\r\n", b"-ERR Protocol error: invalid multibulk length")

    def test_an_inline_line_over_64_kib_is_a_protocol_error(self):
        self.assertProtocolError(
            b"A" * (64 * 1024 + 100),
            b"-ERR Protocol error: too big inline request")

    def test_a_multibulk_count_line_over_64_kib_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*" + b"1" * (64 * 1024 + 100),
            b"-ERR Protocol error: too big mbulk count string")

    def test_an_inline_line_with_unbalanced_quotes_is_a_protocol_error(self):
        self.assertProtocolError(
            b'SET k "unterminated\r\n',
            b"-ERR Protocol error: unbalanced quotes in request")

    def test_replies_before_the_protocol_error_are_still_sent(self):
        self.assertEqual(self.server.client().set("before", "1"), True)
        c = self.connect()
        c.send(b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n")
        self.assertEqual(c.read_reply(), b"+PONG")
        self.assertEqual(c.read_reply(), b"+PONG")
        self.assertEqual(c.read_reply(),
                         b"-ERR Protocol error: invalid multibulk length")
        self.assertTrue(c.closed_by_server())

    def test_protocol_errors_are_counted_in_info(self):
        before = self.server.info("stats")["total_error_replies_protocol"]
        self.assertProtocolError(
            b"*zz\r\n", b"-ERR Protocol error: invalid multibulk length")
        after = self.server.info("stats")["total_error_replies_protocol"]
        self.assertEqual(after - before, 1)


class Garbage(BadInputTest):
    def test_a_garbage_inline_line_is_an_unknown_command_and_stays_open(self):
        c = self.connect()
        c.send(b"\x01\x02garbage\xff\xfe bytes\r\n")
        reply = c.read_reply()
        self.assertTrue(reply.startswith(b"-ERR unknown command '"), reply)
        c.send(b"PING\r\n")
        self.assertEqual(c.read_reply(), b"+PONG")

    def test_random_binary_garbage_gets_errors_and_the_server_survives(self):
        rng = random.Random(20240601)
        for round_ in range(20):
            with self.subTest(round=round_):
                c = self.server.raw()
                try:
                    c.send(bytes(rng.getrandbits(8) for _ in range(4096)))
                    c.send(b"\r\n")
                    c.sock.settimeout(5)
                    first = c.read_reply()
                    self.assertIsInstance(first, bytes)
                    self.assertTrue(first.startswith(b"-ERR "), first)
                except ConnectionError:
                    pass  # closed after a protocol error reply: fine too
                finally:
                    c.close()
                self.assertTrue(self.server.ping_ok())


class HugeRequests(BadInputTest):
    def test_a_million_argument_header_allocates_nothing_up_front_and_waits(
            self):
        rss_before = self.server.rss_bytes()
        c = self.connect()
        c.send(b"*1000000\r\n$4\r\nPING\r\n$1\r\na\r\n$1\r\nb\r\n")
        self.assertTrue(c.nothing_within(0.5), "replied before the request "
                        "was complete")
        # A million empty std::strings alone would be 32 MB.
        growth = self.server.rss_bytes() - rss_before
        self.assertLess(growth, 16 << 20, f"RSS grew by {growth} bytes")
        # Meanwhile other connections are served.
        self.assertTrue(self.server.ping_ok())
        r = self.server.client()
        self.assertTrue(r.set("other", "works"))
        self.assertEqual(r.get("other"), b"works")

    def test_a_command_with_a_million_arguments_is_answered(self):
        n = 1_000_000
        c = self.server.raw(timeout=60)
        self.addCleanup(c.close)
        c.send(b"*%d\r\n$6\r\nEXISTS\r\n" % (n + 1) + b"$2\r\nmk\r\n" * n)
        self.assertEqual(c.read_reply(), 0)
        c.send(b"PING\r\n")
        self.assertEqual(c.read_reply(), b"+PONG")

    def test_an_announced_512_mib_bulk_allocates_only_what_arrives(self):
        rss_before = self.server.rss_bytes()
        c = self.connect()
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\nonly a few bytes")
        self.assertTrue(c.nothing_within(0.5))
        growth = self.server.rss_bytes() - rss_before
        self.assertLess(growth, 16 << 20, f"RSS grew by {growth} bytes")
        self.assertTrue(self.server.ping_ok())


class WrongArity(BadInputTest):
    def test_wrong_arity_is_an_error_and_the_connection_stays_open(self):
        c = self.connect()
        for request, name in ((b"*1\r\n$3\r\nGET\r\n", b"get"),
                              (b"GET a b\r\n", b"get"),
                              (b"SET k\r\n", b"set"),
                              (b"INCRBY k\r\n", b"incrby"),
                              (b"EXPIRE k\r\n", b"expire"),
                              (b"MSET a 1 b\r\n", b"mset"),
                              (b"ECHO\r\n", b"echo")):
            with self.subTest(request=request):
                c.send(request)
                self.assertEqual(
                    c.read_reply(),
                    b"-ERR wrong number of arguments for '%s' command" % name)
        c.send(b"PING\r\n")
        self.assertEqual(c.read_reply(), b"+PONG")


class MaxClients(BadInputTest):
    settings = {"max_clients": 3}

    def ping_ok_soon(self):
        """PONG within 5 s: the server sees a client's close (and frees its
        place) asynchronously."""
        deadline = time.monotonic() + 5
        while not self.server.ping_ok():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def tearDown(self):
        self.assertTrue(self.ping_ok_soon(),
                        "a second connection does not get PONG")

    def test_a_connection_over_max_clients_gets_an_error_and_is_closed(self):
        held = [self.server.raw() for _ in range(3)]
        try:
            for c in held:
                c.send(b"PING\r\n")
                self.assertEqual(c.read_reply(), b"+PONG")
            over = self.connect()
            self.assertEqual(over.read_reply(),
                             b"-ERR max number of clients reached")
            self.assertTrue(over.closed_by_server())
            held.pop().close()
            self.assertTrue(self.ping_ok_soon())
        finally:
            for c in held:
                c.close()


class BeforeAuth(BadInputTest):
    settings = {"requirepass": PASSWORD}

    def test_a_command_before_auth_gets_noauth_and_the_connection_stays(self):
        c = self.connect()
        for request in (b"GET k\r\n", b"SET k v\r\n", b"PING\r\n",
                        b"*1\r\n$6\r\nDBSIZE\r\n"):
            with self.subTest(request=request):
                c.send(request)
                self.assertEqual(c.read_reply(),
                                 b"-NOAUTH Authentication required.")
        c.command("AUTH", PASSWORD)
        self.assertEqual(c.read_reply(), b"+OK")
        c.send(b"PING\r\n")
        self.assertEqual(c.read_reply(), b"+PONG")

    def test_a_wrong_password_gets_wrongpass(self):
        c = self.connect()
        wrongpass = (b"-WRONGPASS invalid username-password pair or user is "
                     b"disabled.")
        c.command("AUTH", "not-it")
        self.assertEqual(c.read_reply(), wrongpass)
        c.command("AUTH", "default", "not-it")
        self.assertEqual(c.read_reply(), wrongpass)
        c.command("AUTH", "someone", PASSWORD)
        self.assertEqual(c.read_reply(), wrongpass)
        c.send(b"GET k\r\n")
        self.assertEqual(c.read_reply(), b"-NOAUTH Authentication required.")

    def test_auth_with_the_default_user_and_password_is_ok(self):
        c = self.connect()
        c.command("AUTH", "default", PASSWORD)
        self.assertEqual(c.read_reply(), b"+OK")
        c.command("SET", "authed", "yes")
        self.assertEqual(c.read_reply(), b"+OK")

    def test_hello_with_auth_authenticates(self):
        c = self.connect()
        c.command("HELLO", "2")
        self.assertTrue(c.read_reply().startswith(b"-NOAUTH "))
        c.command("HELLO", "2", "AUTH", "default", PASSWORD)
        fields = c.read_reply()
        self.assertEqual(fields[fields.index(b"proto") + 1], 2)
        c.send(b"PING\r\n")
        self.assertEqual(c.read_reply(), b"+PONG")

    def test_redis_py_with_the_password_works_and_without_it_fails(self):
        import redis
        r = self.server.client(password=PASSWORD)
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.get("k"), b"v")
        with self.assertRaises(redis.AuthenticationError):
            self.server.client(password=None).get("k")

    def test_quit_works_before_auth(self):
        c = self.connect()
        c.send(b"QUIT\r\n")
        self.assertEqual(c.read_reply(), b"+OK")
        self.assertTrue(c.closed_by_server())

    def test_before_auth_more_than_10_arguments_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*11\r\n",
            b"-ERR Protocol error: unauthenticated multibulk length",
            timeout=1.0)

    def test_before_auth_a_bulk_over_16_kib_is_a_protocol_error(self):
        self.assertProtocolError(
            b"*2\r\n$4\r\nECHO\r\n$16385\r\n",
            b"-ERR Protocol error: unauthenticated bulk length", timeout=1.0)



class DebugCommand(BadInputTest):
    """DEBUG is refused unless enable_debug_command admits the connection,
    with Redis 7's words (its default is "no" too), and changes nothing."""

    def test_debug_is_refused_by_default_as_redis_refuses_it(self):
        c = self.connect()
        c.send(b"DEBUG SLEEP 5\r\n")
        start = time.monotonic()
        self.assertEqual(
            c.read_reply(),
            b'-ERR DEBUG command not allowed. If the enable-debug-command '
            b'option is set to "local", you can run it from a local '
            b'connection, otherwise you need to set this option in the '
            b'configuration file, and then restart the server.')
        self.assertLess(time.monotonic() - start, 2.0, "it slept anyway")


class DebugCommandLocal(BadInputTest):
    settings = {"enable_debug_command": "local"}

    def test_debug_sleep_answers_ok_and_bad_arguments_are_errors(self):
        c = self.connect()
        c.send(b"DEBUG SLEEP 0.01\r\nDEBUG SLEEP soon\r\nDEBUG NOPE\r\n")
        self.assertEqual(c.read_reply(), b"+OK")
        self.assertEqual(c.read_reply(), b"-ERR value is not a valid float")
        self.assertEqual(
            c.read_reply(),
            b"-ERR unknown subcommand or wrong number of arguments for "
            b"'NOPE'. Try DEBUG HELP.")

if __name__ == "__main__":
    unittest.main()
