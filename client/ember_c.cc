// client/ember_c.cc: the C API (client/ember.h) over LocalClient.
#include <exception>
#include <string>

#include "client/ember.h"
#include "client/local_client.h"

struct ember_client {
  std::unique_ptr<ember::client::LocalClient> local;
};

struct ember_value {
  ember::client::Value value;
};

namespace {

thread_local std::string t_last_error;

// The code for `s`, recording its message as the thread's last error.
ember_code Fail(const ember::shm::Status& s) {
  if (s.ok()) {
    t_last_error.clear();
  } else {
    t_last_error = s.ToString();
  }
  switch (s.code()) {
    case ember::shm::Code::kOk:
      return EMBER_OK;
    case ember::shm::Code::kNotFound:
      return EMBER_NOT_FOUND;
    case ember::shm::Code::kUnavailable:
      return EMBER_UNAVAILABLE;
    default:
      return EMBER_ERROR;
  }
}

ember_code Invalid(const char* what) {
  t_last_error = what;
  return EMBER_ERROR;
}

}  // namespace

extern "C" {

ember_code ember_open(const char* name, const char* run_dir,
                      const char* socket_path, ember_client** out) {
  return ember_open_db(name, run_dir, socket_path, 0, out);
}

ember_code ember_open_db(const char* name, const char* run_dir,
                         const char* socket_path, int db, ember_client** out) {
  if (out == nullptr) return Invalid("ember_open: out is NULL");
  *out = nullptr;
  if (db < 0 || db > 255) return Invalid("ember_open_db: db out of range");
  ember::client::LocalOptions o;
  o.db = db;
  if (name != nullptr) o.name = name;
  if (run_dir != nullptr) o.run_dir = run_dir;
  if (socket_path != nullptr) o.remote.unix_socket = socket_path;
  try {
    auto c = std::make_unique<ember_client>();
    ember::shm::Status s = ember::client::LocalClient::Open(o, &c->local);
    if (!s.ok()) return Fail(s);
    *out = c.release();
    return EMBER_OK;
  } catch (const std::exception& e) {  // allocation: nothing may cross C
    return Invalid(e.what());
  }
}

void ember_close(ember_client* c) { delete c; }

ember_code ember_get(ember_client* c, const char* key, size_t key_len,
                     ember_value** value, const char** data, size_t* len) {
  if (c == nullptr || value == nullptr || data == nullptr || len == nullptr)
    return Invalid("ember_get: NULL argument");
  *value = nullptr;
  try {
    auto v = std::make_unique<ember_value>();
    ember::shm::Status s = c->local->Get({key, key_len}, &v->value);
    if (!s.ok()) return Fail(s);
    *data = v->value.view().data();
    *len = v->value.view().size();
    *value = v.release();
    return EMBER_OK;
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

int ember_value_zero_copy(const ember_value* v) {
  return v != nullptr && v->value.zero_copy() ? 1 : 0;
}

ember_code ember_release(ember_value* v) {
  if (v == nullptr) return EMBER_OK;
  ember::shm::Status s = v->value.Release();
  delete v;
  return s.ok() ? EMBER_OK : Fail(s);
}

ember_code ember_set(ember_client* c, const char* key, size_t key_len,
                     const char* value, size_t value_len, int64_t ttl_ms) {
  if (c == nullptr) return Invalid("ember_set: NULL client");
  try {
    return Fail(c->local->Set({key, key_len}, {value, value_len}, ttl_ms));
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

ember_code ember_del(ember_client* c, const char* key, size_t key_len) {
  if (c == nullptr) return Invalid("ember_del: NULL client");
  try {
    int64_t deleted = 0;
    ember::shm::Status s = c->local->Del({key, key_len}, &deleted);
    if (!s.ok()) return Fail(s);
    return deleted > 0 ? EMBER_OK : EMBER_NOT_FOUND;
  } catch (const std::exception& e) {
    return Invalid(e.what());
  }
}

const char* ember_last_error(void) { return t_last_error.c_str(); }

}  // extern "C"
