// shm/status.cc: names and printing of Status codes.
#include "shm/status.h"

namespace ember::shm {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      return "NotFound";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kVersionMismatch:
      return "VersionMismatch";
    case Code::kBusy:
      return "Busy";
    case Code::kCorruption:
      return "Corruption";
    case Code::kIOError:
      return "IOError";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kRevoked:
      return "Revoked";
  }
  return "Unknown";
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return message_ ? *message_ : kEmpty;
}

std::string Status::ToString() const {
  std::string out = CodeName(code_);
  if (message_) {
    out += ": ";
    out += *message_;
  }
  return out;
}

}  // namespace ember::shm
