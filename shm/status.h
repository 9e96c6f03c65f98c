// shm/status.h: the one closed list of result codes shared by shm/, server/,
// client/ and the wire. Codes cross processes, so they are only ever appended.
// Thread safety: a Status is a value; copy it freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ember::shm {

enum class Code : uint8_t {
  kOk = 0,               // done
  kNotFound = 1,         // key in neither tier; a normal answer
  kInvalidArgument = 2,  // malformed request, key or value over a limit
  kVersionMismatch = 3,  // arena or protocol version differs; use the socket
  kBusy = 4,             // no free reader slot, arena full, or shedding load
  kCorruption = 5,       // bad magic, geometry or checksum
  kIOError = 6,          // OS, RocksDB or disk failure (e.g. /dev/shm full)
  kUnavailable = 7,      // no server or arena, or connection lost
  kRevoked = 8,          // a guard outlived its lease; values read may differ
};

// An OK or message-less Status is a code and a null pointer (cheap on the
// read path); a message lives on the heap.
class Status {
 public:
  Status() = default;  // kOk
  Status(const Status& o) : code_(o.code_) {
    if (o.message_) message_ = std::make_unique<std::string>(*o.message_);
  }
  Status& operator=(const Status& o) {
    if (this != &o) *this = Status(o);
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string_view m = {}) {
    return Status(Code::kNotFound, m);
  }
  static Status InvalidArgument(std::string_view m) {
    return Status(Code::kInvalidArgument, m);
  }
  static Status VersionMismatch(std::string_view m) {
    return Status(Code::kVersionMismatch, m);
  }
  static Status Busy(std::string_view m) { return Status(Code::kBusy, m); }
  static Status Corruption(std::string_view m) {
    return Status(Code::kCorruption, m);
  }
  static Status IOError(std::string_view m) {
    return Status(Code::kIOError, m);
  }
  static Status Unavailable(std::string_view m) {
    return Status(Code::kUnavailable, m);
  }
  static Status Revoked(std::string_view m) {
    return Status(Code::kRevoked, m);
  }
  // A code that crossed a process boundary (e.g. the attach socket).
  static Status FromCode(Code code, std::string_view m) {
    return Status(code, m);
  }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  Code code() const { return code_; }
  const std::string& message() const;
  // "NotFound: <message>", for logs and test failures.
  std::string ToString() const;

 private:
  Status(Code code, std::string_view message) : code_(code) {
    if (!message.empty()) message_ = std::make_unique<std::string>(message);
  }
  Code code_ = Code::kOk;
  std::unique_ptr<std::string> message_;  // null when empty
};

// Name of a code, e.g. "InvalidArgument".
const char* CodeName(Code code);

// Returns early from the enclosing function when `expr` is not ok.
#define EMBER_RETURN_IF_ERROR(expr)    \
  do {                                 \
    ::ember::shm::Status _st = (expr); \
    if (!_st.ok()) return _st;         \
  } while (0)

}  // namespace ember::shm
