"""ember-cli (env EMBER_CLI, else build/client/ember-cli) against the real
ember-server: one command from its arguments, commands piped to stdin, the
interactive prompt on a pseudo-terminal, the Unix socket, AUTH, and exit
codes. Output must be what redis-cli prints: raw to a pipe, for humans
("(integer) 1", quoted strings, numbered arrays) on a terminal.
"""

import os
import pty
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from ember_fixture import EmberServer, EmberTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CLI = os.path.normpath(
    os.path.join(HERE, "..", "..", "build", "client", "ember-cli"))


def cli_path():
    path = os.environ.get("EMBER_CLI") or DEFAULT_CLI
    if not os.access(path, os.X_OK):
        # A failure, not a skip: CTest must not pass without the binary.
        raise FileNotFoundError(
            f"ember-cli not found at {path}: build it or set EMBER_CLI")
    return path


class CliTestCase(EmberTestCase):
    """Runs ember-cli with HOME in a temporary directory (its history file
    goes there)."""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="ember-cli-home-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def run_cli(self, *args, stdin=b"", port=None):
        """Runs ember-cli -p PORT ARGS with `stdin` piped; returns the
        CompletedProcess (stdout and stderr as bytes)."""
        port = self.server.port if port is None else port
        return subprocess.run(
            [cli_path(), "-p", str(port), *args], input=stdin,
            capture_output=True, timeout=30,
            env=dict(os.environ, HOME=self.home))

    def out(self, *args, **kwargs):
        """ember-cli's stdout, insisting on exit code 0 and no stderr."""
        done = self.run_cli(*args, **kwargs)
        self.assertEqual((done.returncode, done.stderr), (0, b""), done)
        return done.stdout

    def on_terminal(self, args, typed=b"", settle_s=0.3):
        """Runs ember-cli ARGS with stdin and stdout on a pseudo-terminal,
        types `typed` (then Ctrl-D) and returns everything it printed, with
        the terminal's \\r\\n turned into \\n."""
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["HOME"] = self.home
            os.execv(cli_path(), [cli_path(), *args])
        output = b""
        try:
            for line in typed.splitlines(keepends=True):
                os.write(fd, line)
                output += self._read_for(fd, settle_s)
            os.write(fd, b"\x04")  # Ctrl-D: end of input at the prompt
            output += self._read_for(fd, 5.0, until_eof=True)
        finally:
            os.close(fd)
            _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, output)
        return output.replace(b"\r\n", b"\n")

    @staticmethod
    def _read_for(fd, seconds, until_eof=False):
        data = b""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            data += chunk
        return data


class EmberCli(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer()
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def setUp(self):
        super().setUp()
        self.r = self.server.client()
        self.addCleanup(self.r.close)
        self.r.flushall()

    def test_arguments_run_one_command_printed_raw_to_a_pipe(self):
        self.assertEqual(self.out("set", "k", "hello world"), b"OK\n")
        self.assertEqual(self.out("get", "k"), b"hello world\n")
        self.assertEqual(self.out("get", "missing"), b"\n")
        self.assertEqual(self.out("incr", "n"), b"1\n")
        self.assertEqual(self.out("mget", "k", "missing", "n"),
                         b"hello world\n\n1\n")
        self.assertEqual(self.r.get("k"), b"hello world")

    def test_error_reply_is_printed_and_exits_zero_like_redis_cli(self):
        self.r.set("word", "abc")
        self.assertEqual(self.out("incr", "word"),
                         b"ERR value is not an integer or out of range\n")
        self.assertEqual(self.out("--no-raw", "incr", "word"),
                         b"(error) ERR value is not an integer or out of "
                         b"range\n")

    def test_no_raw_prints_for_humans(self):
        self.r.set("k", 'a"b\\c\nd')
        self.r.set("n", "5")
        self.assertEqual(self.out("--no-raw", "get", "k"),
                         b'"a\\"b\\\\c\\nd"\n')
        self.assertEqual(self.out("--no-raw", "get", "missing"), b"(nil)\n")
        self.assertEqual(self.out("--no-raw", "incr", "n"), b"(integer) 6\n")
        self.assertEqual(self.out("--no-raw", "mget", "n", "missing"),
                         b'1) "6"\n2) (nil)\n')
        self.assertEqual(self.out("--no-raw", "ping"), b"PONG\n")

    def test_binary_values_print_raw_bytes(self):
        value = bytes(range(256))
        self.r.set("bin", value)
        self.assertEqual(self.out("get", "bin"), value + b"\n")

    def test_piped_stdin_runs_each_line_with_redis_quoting(self):
        script = (b'SET "my key" "x\\x41\\n"\n'
                  b"\n"
                  b"GET 'my key'\n"
                  b"INCR c\r\n"
                  b"INCR c\n"
                  b'SET bad "unbalanced\n'
                  b"quit\n"
                  b"INCR c\n")
        done = self.run_cli(stdin=script)
        self.assertEqual(done.returncode, 0, done)
        self.assertEqual(done.stdout, b"OK\nxA\n\n1\n2\n")
        self.assertIn(b"Invalid argument(s)", done.stderr)
        self.assertEqual(self.r.get("my key"), b"xA\n")
        self.assertEqual(self.r.get("c"), b"2", "nothing runs after quit")

    def test_unix_socket(self):
        self.assertEqual(self.out("-s", self.server.unix_socket, "set", "u",
                                  "1"), b"OK\n")
        self.assertEqual(self.r.get("u"), b"1")

    def test_terminal_output_is_for_humans(self):
        self.r.set("k", "v")
        out = self.on_terminal(["-p", str(self.server.port), "get", "k"])
        self.assertEqual(out, b'"v"\n')

    def test_prompt_runs_typed_commands(self):
        prompt = f"127.0.0.1:{self.server.port}> ".encode()
        out = self.on_terminal(["-p", str(self.server.port)],
                               b"set t 1\nincr t\nget nothing\n")
        self.assertIn(prompt, out)
        self.assertIn(b"OK\n", out)
        self.assertIn(b"(integer) 2\n", out)
        self.assertIn(b"(nil)\n", out)
        self.assertEqual(self.r.get("t"), b"2")
        with open(os.path.join(self.home, ".ember_cli_history"), "rb") as f:
            self.assertIn(b"incr", f.read())

    def test_connection_failure_exits_non_zero(self):
        with socket.socket() as s:  # a port nobody listens on any more
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        done = self.run_cli("ping", port=closed_port)
        self.assertEqual(done.returncode, 1, done)
        self.assertIn(b"Could not connect", done.stderr)
        self.assertEqual(done.stdout, b"")
        done = self.run_cli(stdin=b"PING\n", port=closed_port)
        self.assertEqual(done.returncode, 1, done)

    def test_bad_flags_exit_non_zero(self):
        self.assertEqual(self.run_cli("--bogus").returncode, 1)
        self.assertEqual(self.run_cli("-p").returncode, 1)
        done = subprocess.run([cli_path(), "-p", "99999", "ping"],
                              capture_output=True, timeout=30)
        self.assertEqual(done.returncode, 1)
        self.assertIn(b"bad port", done.stderr)
        done = subprocess.run([cli_path(), "--help"], capture_output=True,
                              timeout=30)
        self.assertEqual(done.returncode, 0)
        self.assertIn(b"usage: ember-cli", done.stdout)


class EmberCliAuth(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer(requirepass="s3cret")
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def test_without_password_commands_get_noauth(self):
        self.assertEqual(self.out("get", "k"),
                         b"NOAUTH Authentication required.\n")

    def test_with_password_commands_work(self):
        self.assertEqual(self.out("-a", "s3cret", "set", "k", "v"), b"OK\n")
        self.assertEqual(self.out("-a", "s3cret", "get", "k"), b"v\n")

    def test_wrong_password_fails_to_connect(self):
        done = self.run_cli("-a", "nope", "get", "k")
        self.assertEqual(done.returncode, 1, done)
        self.assertIn(b"AUTH failed", done.stderr)


class EmberCliLocal(CliTestCase):
    """--local NAME reads through the arena; `arena NAME` describes it."""

    @classmethod
    def setUpClass(cls):
        cls.server = EmberServer(arena_bytes="16mb")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def local(self, *args, stdin=b""):
        return self.run_cli("--local", self.server.name, "--run-dir",
                            self.server.run_dir, "-s", self.server.unix_socket,
                            *args, stdin=stdin)

    def test_get_reads_the_arena_and_other_commands_use_the_socket(self):
        self.assertEqual(self.out("set", "lk", "hot value"), b"OK\n")
        done = self.local("get", "lk")
        self.assertEqual((done.returncode, done.stdout, done.stderr),
                         (0, b"hot value\n", b""))
        done = self.local("get", "no-such-key")
        self.assertEqual((done.returncode, done.stdout), (0, b"\n"))
        done = self.local("incr", "lcounter")
        self.assertEqual((done.returncode, done.stdout), (0, b"1\n"))
        piped = self.local(stdin=b"set p1 v1\nget p1\n")
        self.assertEqual((piped.returncode, piped.stdout), (0, b"OK\nv1\n"))

    def test_select_moves_the_arena_reads_to_that_database(self):
        piped = self.local(stdin=b"set k zero\nselect 3\nset k three\nget k\n"
                           b"swapdb 0 3\nget k\nselect 0\nget k\n"
                           b"select 99\nget k\nreset\nget k\n")
        self.assertEqual(piped.returncode, 0, piped.stderr)
        self.assertEqual(piped.stdout.split(b"\n")[:11],
                         [b"OK", b"OK", b"OK", b"three", b"OK", b"zero",
                          b"OK", b"three",
                          b"ERR DB index is out of range", b"three", b"RESET"])

    def test_arena_prints_header_fill_classes_and_readers(self):
        self.out("set", "ak", "x" * 100)
        done = self.run_cli("--run-dir", self.server.run_dir, "arena",
                            self.server.name)
        self.assertEqual(done.returncode, 0, done)
        text = done.stdout.decode()
        self.assertIn(f"arena: {self.server.name}", text)
        self.assertIn("(this build's)", text)
        self.assertRegex(text, r"state: ACTIVE, generation \d+, writer pid "
                         rf"{self.server.proc.pid}")
        self.assertRegex(text, r"fill: [1-9]\d* items")
        self.assertIn("classes (chunk bytes", text)
        self.assertRegex(text, r"readers: [1-9]\d* of \d+ slots claimed")
        self.assertRegex(text, r"slot +\d+  pid \d+ +uid \d+ +server ")

    def test_arena_of_no_server_names_the_missing_object(self):
        done = self.run_cli("--run-dir", self.server.run_dir, "arena",
                            "no-such-arena")
        self.assertEqual(done.returncode, 1)
        self.assertIn(b"/dev/shm/ember.no-such-arena.data does not exist",
                      done.stderr)

    def test_arena_after_a_clean_stop_says_clean(self):
        with EmberServer(arena_bytes="8mb") as other:
            name, run_dir = other.name, other.run_dir
            other.stop()
            done = self.run_cli("--run-dir", run_dir, "arena", name)
            self.assertEqual(done.returncode, 0, done)
            self.assertIn(b"state: CLEAN", done.stdout)



class EmberCliDropArena(CliTestCase):
    """`drop-arena NAME` removes what a stopped or killed server leaves in
    /dev/shm, and refuses while a live server holds the arena."""

    def setUp(self):
        super().setUp()
        self.server = EmberServer(arena_bytes="16mb")
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.shm = f"/dev/shm/ember.{self.server.name}.data"

    def drop(self):
        return self.run_cli("drop-arena", self.server.name, port=1)

    def test_refused_while_the_server_lives(self):
        done = self.drop()
        self.assertEqual(done.returncode, 1, done)
        self.assertIn(b"held by a live server", done.stderr)
        self.assertIn(str(self.server.proc.pid).encode(), done.stderr)
        self.assertTrue(os.path.exists(self.shm))
        self.assertTrue(self.server.ping_ok())

    def test_a_stopped_servers_arena_is_dropped(self):
        self.server.stop()
        self.assertTrue(os.path.exists(self.shm), "a stop leaves the arena")
        done = self.drop()
        self.assertEqual(done.returncode, 0, done)
        self.assertIn(b"dropped arena", done.stdout)
        self.assertFalse(os.path.exists(self.shm))
        again = self.drop()
        self.assertEqual(again.returncode, 1, again)
        self.server.start()  # and the next start is a clean one
        self.assertTrue(self.server.ping_ok())

    def test_a_killed_servers_arena_is_dropped(self):
        self.server.kill()
        self.assertEqual(self.drop().returncode, 0)
        self.assertFalse(os.path.exists(self.shm))

if __name__ == "__main__":
    unittest.main()
