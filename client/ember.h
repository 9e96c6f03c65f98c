/* client/ember.h: the C API of libember, for C programs and other
 * languages' FFIs. A thin layer over ember::client::LocalClient: Gets of hot
 * keys are zero-copy from the server's shared-memory arena; everything else
 * goes to the server's Unix socket.
 *
 * Thread safety: an ember_client may be used from any thread (each thread
 * gets its own reader slot and connection). An ember_value belongs to the
 * thread that got it. Errors: functions return an ember_code;
 * ember_last_error() gives the calling thread's last message. */
#ifndef EMBER_CLIENT_EMBER_H_
#define EMBER_CLIENT_EMBER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ember_code {
  EMBER_OK = 0,
  EMBER_NOT_FOUND = 1,  /* the key does not exist: a normal answer */
  EMBER_ERROR = 2,      /* anything else; see ember_last_error() */
  EMBER_UNAVAILABLE = 3 /* no server answered (stopped, no socket) */
} ember_code;

typedef struct ember_client ember_client;
typedef struct ember_value ember_value;

/* Opens a client for server instance `name` (NULL: "default") whose
 * run_dir is `run_dir` (NULL: "/tmp/ember") and whose Unix socket is
 * `socket_path` (NULL: <run_dir>/ember.sock). Succeeds with no server
 * running; calls then return EMBER_UNAVAILABLE until one starts. */
ember_code ember_open(const char* name, const char* run_dir,
                      const char* socket_path, ember_client** out);
/* ember_open for database `db` (SELECT; 0 to the server's databases - 1):
 * every call of the client reads and writes that database, arena reads
 * zero-copy in it too. A db the server does not have fails each call that
 * reaches the server with EMBER_ERROR. */
ember_code ember_open_db(const char* name, const char* run_dir,
                         const char* socket_path, int db, ember_client** out);
/* REQUIRES: every ember_value of `c` released. NULL is a no-op. */
void ember_close(ember_client* c);

/* Finds `key`. On EMBER_OK, *data and *len describe the value; *value
 * owns the read and must be given to ember_release(). Bytes from the arena
 * (ember_value_zero_copy) are shared memory, valid and unchanged until the
 * release: read them now, copy what you keep, release soon (a read held
 * past the server's reader_lease_ms may be revoked). EMBER_NOT_FOUND: no
 * such key, *value is NULL. */
ember_code ember_get(ember_client* c, const char* key, size_t key_len,
                     ember_value** value, const char** data, size_t* len);
/* 1 when `v`'s bytes are read in place from shared memory. */
int ember_value_zero_copy(const ember_value* v);
/* Ends the read and frees `v`. EMBER_ERROR if the server revoked a
 * zero-copy read held too long (the bytes may have changed). NULL: EMBER_OK. */
ember_code ember_release(ember_value* v);

/* SET, with an expiry of `ttl_ms` milliseconds when > 0. Returns once the
 * write is in RocksDB and in the arena. */
ember_code ember_set(ember_client* c, const char* key, size_t key_len,
                     const char* value, size_t value_len, int64_t ttl_ms);
/* DEL; EMBER_NOT_FOUND when the key did not exist. */
ember_code ember_del(ember_client* c, const char* key, size_t key_len);

/* The calling thread's last error message ("" if none); valid until its
 * next call into this API. */
const char* ember_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_CLIENT_EMBER_H_ */
