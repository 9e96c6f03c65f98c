/* tests/client/c_api_test.c: drives libember's C API (client/ember.h) from
 * C. Usage: c_api_test NAME RUN_DIR SOCKET, against a running server (run
 * by local_client_test's CApiTest). Exit 0 when every check passed; each
 * failed check prints a line on stderr. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/ember.h"

static int failures = 0;

#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      fprintf(stderr, "c_api_test:%d: %s (%s)\n", __LINE__, #cond, \
              ember_last_error());                                 \
      ++failures;                                                  \
    }                                                              \
  } while (0)

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: c_api_test NAME RUN_DIR SOCKET\n");
    return 2;
  }
  ember_client* c = NULL;
  CHECK(ember_open(argv[1], argv[2], argv[3], &c) == EMBER_OK);
  if (c == NULL) return 1;

  const char value[] = "binary\0value"; /* a NUL inside */
  CHECK(ember_set(c, "ckey", 4, value, sizeof value, 0) == EMBER_OK);

  ember_value* v = NULL;
  const char* data = NULL;
  size_t len = 0;
  CHECK(ember_get(c, "ckey", 4, &v, &data, &len) == EMBER_OK);
  CHECK(len == sizeof value && memcmp(data, value, len) == 0);
  CHECK(ember_value_zero_copy(v) == 1); /* a hot key, read in place */
  CHECK(ember_release(v) == EMBER_OK);

  CHECK(ember_get(c, "nokey", 5, &v, &data, &len) == EMBER_NOT_FOUND);
  CHECK(v == NULL);
  CHECK(ember_del(c, "ckey", 4) == EMBER_OK);
  CHECK(ember_del(c, "ckey", 4) == EMBER_NOT_FOUND);
  CHECK(ember_get(c, "ckey", 4, &v, &data, &len) == EMBER_NOT_FOUND);

  CHECK(ember_set(c, "ttl", 3, "x", 1, 50) == EMBER_OK);
  nanosleep(&(struct timespec){0, 150 * 1000 * 1000}, NULL);
  CHECK(ember_get(c, "ttl", 3, &v, &data, &len) == EMBER_NOT_FOUND);

  /* Database 3: its own keys, read zero-copy from the arena too. */
  ember_client* c3 = NULL;
  CHECK(ember_open_db(argv[1], argv[2], argv[3], 3, &c3) == EMBER_OK);
  if (c3 != NULL) {
    CHECK(ember_set(c, "dbkey", 5, "zero", 4, 0) == EMBER_OK);
    CHECK(ember_set(c3, "dbkey", 5, "three", 5, 0) == EMBER_OK);
    CHECK(ember_get(c3, "dbkey", 5, &v, &data, &len) == EMBER_OK);
    CHECK(len == 5 && memcmp(data, "three", 5) == 0);
    CHECK(ember_value_zero_copy(v) == 1);
    CHECK(ember_release(v) == EMBER_OK);
    CHECK(ember_get(c, "dbkey", 5, &v, &data, &len) == EMBER_OK);
    CHECK(len == 4 && memcmp(data, "zero", 4) == 0);
    CHECK(ember_release(v) == EMBER_OK);
    CHECK(ember_del(c3, "dbkey", 5) == EMBER_OK);
    CHECK(ember_get(c3, "dbkey", 5, &v, &data, &len) == EMBER_NOT_FOUND);
    CHECK(ember_del(c, "dbkey", 5) == EMBER_OK);
    ember_close(c3);
  }
  CHECK(ember_open_db(argv[1], argv[2], argv[3], 256, &c3) == EMBER_ERROR);

  CHECK(ember_get(NULL, "k", 1, &v, &data, &len) == EMBER_ERROR);
  CHECK(strlen(ember_last_error()) > 0);
  ember_close(c);

  /* No server at this address: unavailable, not a crash. */
  CHECK(ember_open("absent", "/tmp/ember-c-api-absent", NULL, &c) == EMBER_OK);
  CHECK(ember_set(c, "k", 1, "v", 1, 0) == EMBER_UNAVAILABLE);
  CHECK(ember_get(c, "k", 1, &v, &data, &len) == EMBER_UNAVAILABLE);
  ember_close(c);
  return failures == 0 ? 0 : 1;
}
