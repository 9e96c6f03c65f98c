// protocol/resp_parser.cc: frames RESP2 requests (multibulk and inline) one
// command per call, keeping partial multibulk state between calls.
#include "protocol/resp_parser.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "protocol/crlf_line.h"
#include "protocol/inline_args.h"

namespace ember::protocol {
namespace {
constexpr int64_t kUnauthenticatedArgs = 10;              // Redis's limits
constexpr int64_t kUnauthenticatedBulkBytes = 16 * 1024;  // before AUTH

// A client may announce a million arguments and send none of them: reserve
// no more than this up front; the vector grows as arguments arrive.
constexpr int64_t kMaxReservedArgs = 1024;

// Redis's string2ll rules: optional '-', digits, no '+', no spaces, no
// leading zeros ("0" itself is fine, "-0" is not), no overflow.
bool ParseLength(std::string_view s, int64_t* value) {
  if (s.empty()) return false;
  size_t first_digit = s[0] == '-' ? 1 : 0;
  if (first_digit < s.size() && s[first_digit] == '0' && s.size() != 1) {
    return false;
  }
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

RespParser::RespParser(const ParserLimits& limits) : limits_(limits) {}

void RespParser::Reset() {
  state_ = State::kStart;
  args_left_ = 0;
  bulk_left_ = 0;
  args_.clear();
  error_.clear();
}

ParseResult RespParser::Parse(std::string_view input, size_t* consumed,
                              Command* out) {
  size_t pos = 0;
  Step step = Step::kContinue;
  while (step == Step::kContinue) {
    switch (state_) {
      case State::kError:
        step = Step::kError;
        break;
      case State::kStart:
        if (pos == input.size()) {
          step = Step::kNeedMore;
        } else if (input[pos] == '*') {
          step = ParseMultibulkCount(input, &pos);
        } else {
          step = ParseInline(input, &pos, out);
        }
        break;
      case State::kBulkHeader:
        step = ParseBulkHeader(input, &pos);
        break;
      case State::kBulkData:
        step = ParseBulkData(input, &pos);
        break;
      case State::kBulkEnd:
        step = ParseBulkEnd(input, &pos);
        if (step == Step::kCommand) {
          out->swap(args_);
          args_.clear();  // keeps the vector's capacity for the next one
        }
        break;
    }
  }
  *consumed = pos;
  switch (step) {
    case Step::kCommand:
      return ParseResult::kCommand;
    case Step::kNeedMore:
      return ParseResult::kNeedMore;
    default:
      return ParseResult::kError;
  }
}

RespParser::Step RespParser::Fail(std::string message) {
  error_ = std::move(message);
  state_ = State::kError;
  args_.clear();
  return Step::kError;
}

RespParser::Step RespParser::ParseMultibulkCount(std::string_view input,
                                                 size_t* pos) {
  std::string_view line;
  size_t next = 0;
  switch (FindCrlfLine(input, *pos, limits_.max_inline_bytes, &line, &next)) {
    case LineStatus::kNeedMore:
      return Step::kNeedMore;
    case LineStatus::kTooBig:
      return Fail("Protocol error: too big mbulk count string");
    case LineStatus::kBadEnd:
      return Fail("Protocol error: invalid multibulk length");
    case LineStatus::kLine:
      break;
  }
  int64_t count = 0;
  if (!ParseLength(line.substr(1), &count) ||
      count > limits_.max_multibulk_args) {
    return Fail("Protocol error: invalid multibulk length");
  }
  if (limits_.unauthenticated && count > kUnauthenticatedArgs) {
    return Fail("Protocol error: unauthenticated multibulk length");
  }
  *pos = next;
  if (count <= 0) return Step::kContinue;  // empty request: skip it
  args_left_ = count;
  args_.clear();
  args_.reserve(static_cast<size_t>(std::min(count, kMaxReservedArgs)));
  state_ = State::kBulkHeader;
  return Step::kContinue;
}

RespParser::Step RespParser::ParseBulkHeader(std::string_view input,
                                             size_t* pos) {
  if (*pos == input.size()) return Step::kNeedMore;
  // Checked on the first byte, before the line is complete: garbage fails
  // at once instead of after max_inline_bytes.
  if (input[*pos] != '$') {
    return Fail(std::string("Protocol error: expected '$', got '") +
                input[*pos] + "'");
  }
  std::string_view line;
  size_t next = 0;
  switch (FindCrlfLine(input, *pos, limits_.max_inline_bytes, &line, &next)) {
    case LineStatus::kNeedMore:
      return Step::kNeedMore;
    case LineStatus::kTooBig:
      return Fail("Protocol error: too big bulk count string");
    case LineStatus::kBadEnd:
      return Fail("Protocol error: invalid bulk length");
    case LineStatus::kLine:
      break;
  }
  int64_t length = 0;
  if (!ParseLength(line.substr(1), &length) || length < 0 ||
      length > limits_.max_bulk_bytes) {
    return Fail("Protocol error: invalid bulk length");
  }
  if (limits_.unauthenticated && length > kUnauthenticatedBulkBytes) {
    return Fail("Protocol error: unauthenticated bulk length");
  }
  *pos = next;
  bulk_left_ = length;
  args_.emplace_back();  // no reserve: `length` is only a claim
  state_ = State::kBulkData;
  return Step::kContinue;
}

RespParser::Step RespParser::ParseBulkData(std::string_view input,
                                           size_t* pos) {
  size_t available = input.size() - *pos;
  size_t take = static_cast<size_t>(std::min<int64_t>(bulk_left_, available));
  std::string& arg = args_.back();
  size_t needed = arg.size() + take;
  if (needed > arg.capacity()) {
    // Grow geometrically, but never past the announced length, and never on
    // the announced length alone: memory follows the bytes received.
    size_t announced = arg.size() + static_cast<size_t>(bulk_left_);
    arg.reserve(std::min(std::max(needed, 2 * arg.capacity()), announced));
  }
  arg.append(input.substr(*pos, take));
  *pos += take;
  bulk_left_ -= static_cast<int64_t>(take);
  if (bulk_left_ > 0) return Step::kNeedMore;
  state_ = State::kBulkEnd;
  return Step::kContinue;
}

RespParser::Step RespParser::ParseBulkEnd(std::string_view input, size_t* pos) {
  if (input.size() - *pos < 2) return Step::kNeedMore;
  // Redis skips these two bytes unchecked; a wrong bulk length would then
  // misframe everything after it, so we stop here instead.
  if (input[*pos] != '\r' || input[*pos + 1] != '\n') {
    return Fail("Protocol error: bulk argument not followed by CRLF");
  }
  *pos += 2;
  if (--args_left_ > 0) {
    state_ = State::kBulkHeader;
    return Step::kContinue;
  }
  state_ = State::kStart;
  return Step::kCommand;
}

RespParser::Step RespParser::ParseInline(std::string_view input, size_t* pos,
                                         Command* out) {
  size_t newline = input.find('\n', *pos);
  size_t end = newline == std::string_view::npos ? input.size() : newline;
  // The bound holds whether or not the '\n' has arrived, so the result does
  // not depend on how the input was split.
  if (end - *pos > limits_.max_inline_bytes) {
    return Fail("Protocol error: too big inline request");
  }
  if (newline == std::string_view::npos) return Step::kNeedMore;
  std::string_view line = input.substr(*pos, newline - *pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitInlineArgs(line, out)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  *pos = newline + 1;
  return out->empty() ? Step::kContinue : Step::kCommand;
}

}  // namespace ember::protocol
