// protocol/resp_reply.cc: builds RESP2 replies from bytes one line or bulk
// chunk at a time, keeping the arrays still open on a stack, and encodes
// replies back to bytes.
#include "protocol/resp_reply.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ostream>
#include <utility>

#include "protocol/crlf_line.h"
#include "protocol/resp_writer.h"

namespace ember::protocol {
namespace {

// A server may announce a million elements and send none: reserve no more
// than this up front; the vector grows as elements arrive.
constexpr int64_t kMaxReservedElements = 1024;

// A decimal int64: optional '-', digits, nothing else, no overflow. Looser
// than the request parser (a server's "-0" or "007" is not worth a failure).
bool ParseInt(std::string_view s, int64_t* value) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

void AppendQuoted(std::string* out, std::string_view bytes) {
  out->push_back('"');
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out->append(hex);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

void AppendDebug(std::string* out, const Reply& r) {
  switch (r.kind) {
    case Reply::Kind::kStatus:
      out->append("+").append(r.str);
      break;
    case Reply::Kind::kError:
      out->append("-").append(r.str);
      break;
    case Reply::Kind::kInteger:
      out->append(":").append(std::to_string(r.integer));
      break;
    case Reply::Kind::kBulk:
      AppendQuoted(out, r.str);
      break;
    case Reply::Kind::kNull:
      out->append("(nil)");
      break;
    case Reply::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendDebug(out, r.elements[i]);
      }
      out->push_back(']');
      break;
  }
}

}  // namespace

Reply Reply::Status(std::string_view text) {
  Reply r;
  r.kind = Kind::kStatus;
  r.str = text;
  return r;
}

Reply Reply::Error(std::string_view text) {
  Reply r;
  r.kind = Kind::kError;
  r.str = text;
  return r;
}

Reply Reply::Integer(int64_t n) {
  Reply r;
  r.kind = Kind::kInteger;
  r.integer = n;
  return r;
}

Reply Reply::Bulk(std::string_view bytes) {
  Reply r;
  r.kind = Kind::kBulk;
  r.str = bytes;
  return r;
}

Reply Reply::Array(std::vector<Reply> elements) {
  Reply r;
  r.kind = Kind::kArray;
  r.elements = std::move(elements);
  return r;
}

std::string ToDebugString(const Reply& reply) {
  std::string out;
  AppendDebug(&out, reply);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Reply& reply) {
  return os << ToDebugString(reply);
}

void AppendReply(std::string* out, const Reply& reply) {
  switch (reply.kind) {
    case Reply::Kind::kStatus:
      AppendSimpleString(out, reply.str);
      break;
    case Reply::Kind::kError:
      AppendError(out, reply.str);
      break;
    case Reply::Kind::kInteger:
      AppendInteger(out, reply.integer);
      break;
    case Reply::Kind::kBulk:
      AppendBulk(out, reply.str);
      break;
    case Reply::Kind::kNull:
      AppendNullBulk(out);
      break;
    case Reply::Kind::kArray:
      AppendArrayHeader(out, reply.elements.size());
      for (const Reply& e : reply.elements) AppendReply(out, e);
      break;
  }
}

ReplyParser::ReplyParser(const ReplyLimits& limits) : limits_(limits) {}

void ReplyParser::Reset() {
  state_ = State::kType;
  stack_.clear();
  bulk_ = Reply();
  bulk_left_ = 0;
  charged_ = 0;
  done_ = Reply();
  error_.clear();
}

ReplyResult ReplyParser::Parse(std::string_view input, size_t* consumed,
                               Reply* out) {
  size_t pos = 0;
  Step step = Step::kContinue;
  while (step == Step::kContinue) {
    switch (state_) {
      case State::kError:
        step = Step::kError;
        break;
      case State::kType:
        step = ParseType(input, &pos);
        break;
      case State::kBulkData:
        step = ParseBulkData(input, &pos);
        break;
      case State::kBulkEnd:
        step = ParseBulkEnd(input, &pos);
        break;
    }
  }
  *consumed = pos;
  switch (step) {
    case Step::kReply:
      *out = std::move(done_);
      done_ = Reply();
      charged_ = 0;
      return ReplyResult::kReply;
    case Step::kNeedMore:
      return ReplyResult::kNeedMore;
    default:
      return ReplyResult::kError;
  }
}

ReplyParser::Step ReplyParser::Fail(std::string message) {
  error_ = std::move(message);
  state_ = State::kError;
  stack_.clear();
  bulk_ = Reply();
  return Step::kError;
}

bool ReplyParser::Charge(int64_t bytes) {
  charged_ += bytes;
  return charged_ <= limits_.max_reply_bytes;
}

ReplyParser::Step ReplyParser::ParseType(std::string_view input, size_t* pos) {
  if (*pos == input.size()) return Step::kNeedMore;
  const char type = input[*pos];
  // Checked on the first byte, before the line is complete: garbage fails
  // at once instead of after max_line_bytes.
  if (type != '+' && type != '-' && type != ':' && type != '$' && type != '*') {
    return Fail(std::string("Protocol error: unexpected reply type byte '") +
                type + "'");
  }
  std::string_view line;
  size_t next = 0;
  switch (FindCrlfLine(input, *pos + 1, limits_.max_line_bytes, &line, &next)) {
    case LineStatus::kTooBig:
      return Fail("Protocol error: too big reply line");
    case LineStatus::kNeedMore:
      return Step::kNeedMore;
    case LineStatus::kBadEnd:
      return Fail("Protocol error: reply line not ended by CRLF");
    case LineStatus::kLine:
      break;
  }
  *pos = next;
  if (!Charge(static_cast<int64_t>(sizeof(Reply) + line.size()))) {
    return Fail("Protocol error: reply too big");
  }
  int64_t n = 0;
  switch (type) {
    case '+':
      return Finish(Reply::Status(line));
    case '-':
      return Finish(Reply::Error(line));
    case ':':
      if (!ParseInt(line, &n)) return Fail("Protocol error: invalid integer");
      return Finish(Reply::Integer(n));
    case '$':
      if (!ParseInt(line, &n) || n < -1 || n > limits_.max_bulk_bytes) {
        return Fail("Protocol error: invalid bulk length");
      }
      if (n == -1) return Finish(Reply::Null());
      if (!Charge(n)) return Fail("Protocol error: reply too big");
      bulk_ = Reply::Bulk({});  // no reserve: `n` is only a claim
      bulk_left_ = n;
      state_ = State::kBulkData;
      return Step::kContinue;
    default:  // '*'
      if (!ParseInt(line, &n) || n < -1 || n > limits_.max_array_elements) {
        return Fail("Protocol error: invalid array length");
      }
      if (n == -1) return Finish(Reply::Null());
      if (n == 0) return Finish(Reply::Array({}));
      if (stack_.size() >= static_cast<size_t>(limits_.max_depth)) {
        return Fail("Protocol error: arrays nested too deep");
      }
      stack_.push_back(Frame{Reply::Array({}), n});
      stack_.back().array.elements.reserve(
          static_cast<size_t>(std::min(n, kMaxReservedElements)));
      return Step::kContinue;
  }
}

ReplyParser::Step ReplyParser::ParseBulkData(std::string_view input,
                                             size_t* pos) {
  size_t available = input.size() - *pos;
  size_t take = static_cast<size_t>(std::min<int64_t>(bulk_left_, available));
  std::string& s = bulk_.str;
  size_t needed = s.size() + take;
  if (needed > s.capacity()) {
    // Grow geometrically, but never past the announced length, and never on
    // the announced length alone: memory follows the bytes received.
    size_t announced = s.size() + static_cast<size_t>(bulk_left_);
    s.reserve(std::min(std::max(needed, 2 * s.capacity()), announced));
  }
  s.append(input.substr(*pos, take));
  *pos += take;
  bulk_left_ -= static_cast<int64_t>(take);
  if (bulk_left_ > 0) return Step::kNeedMore;
  state_ = State::kBulkEnd;
  return Step::kContinue;
}

ReplyParser::Step ReplyParser::ParseBulkEnd(std::string_view input,
                                            size_t* pos) {
  if (input.size() - *pos < 2) return Step::kNeedMore;
  if (input[*pos] != '\r' || input[*pos + 1] != '\n') {
    return Fail("Protocol error: bulk string not followed by CRLF");
  }
  *pos += 2;
  state_ = State::kType;
  Reply value = std::move(bulk_);
  bulk_ = Reply();
  return Finish(std::move(value));
}

ReplyParser::Step ReplyParser::Finish(Reply value) {
  while (!stack_.empty()) {
    Frame& top = stack_.back();
    top.array.elements.push_back(std::move(value));
    if (--top.left > 0) return Step::kContinue;
    value = std::move(top.array);
    stack_.pop_back();
  }
  done_ = std::move(value);
  return Step::kReply;
}

}  // namespace ember::protocol
