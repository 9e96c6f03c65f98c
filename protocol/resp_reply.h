// protocol/resp_reply.h: RESP2 replies as values (Reply), an incremental,
// bounded parser of the bytes a server sends (ReplyParser), and the encoder
// back to bytes (AppendReply). The client side of protocol/resp_parser.h:
// a hostile or broken server cannot make the parser allocate more than
// ReplyLimits allows. Thread safety: one thread at a time per ReplyParser;
// a Reply is a plain value. Depends only on std.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace ember::protocol {

// One reply. Owns all its bytes. Which fields mean something depends on
// `kind`; the others stay empty / zero.
struct Reply {
  enum class Kind : uint8_t {
    kStatus,   // "+OK": `str` is the text
    kError,    // "-ERR ...": `str` is the text without '-' ("ERR ...")
    kInteger,  // ":42": `integer`
    kBulk,     // "$3\r\nabc": `str`, binary-safe
    kNull,     // "$-1" or "*-1": a missing value (redis-cli's "(nil)")
    kArray,    // "*2 ...": `elements`, in order
  };

  Kind kind = Kind::kNull;
  std::string str;
  int64_t integer = 0;
  std::vector<Reply> elements;

  static Reply Status(std::string_view text);
  static Reply Error(std::string_view text);
  static Reply Integer(int64_t n);
  static Reply Bulk(std::string_view bytes);
  static Reply Null() { return Reply(); }
  static Reply Array(std::vector<Reply> elements);

  bool is_error() const { return kind == Kind::kError; }
  bool is_null() const { return kind == Kind::kNull; }
  // True for a status reply with exactly `text`, e.g. IsStatus("OK").
  bool IsStatus(std::string_view text) const {
    return kind == Kind::kStatus && str == text;
  }

  bool operator==(const Reply& other) const = default;
};

// A one-line, printable rendering for logs and test failures, e.g.
// `[+OK, :3, "a\x00b", (nil), -ERR x]`.
std::string ToDebugString(const Reply& reply);
std::ostream& operator<<(std::ostream& os, const Reply& reply);

// Appends the RESP2 encoding of `reply` to `*out` (what a server sends).
// '\r' and '\n' in status and error texts become spaces, as in
// protocol/resp_writer.h.
void AppendReply(std::string* out, const Reply& reply);

// Hard limits on one reply; input beyond them is a protocol error, found
// before anything is allocated for it.
struct ReplyLimits {
  // Bytes of a "+", "-", ":", "$len" or "*count" line before its '\r'.
  size_t max_line_bytes = 64 * 1024;
  // Bytes of one bulk string (Redis's proto_max_bulk_len).
  int64_t max_bulk_bytes = 512 * 1024 * 1024;
  // Elements of one array.
  int64_t max_array_elements = 1024 * 1024;
  // Arrays nested in arrays: 1 allows an array of scalars.
  int max_depth = 16;
  // Memory one reply may cost: each element counts sizeof(Reply) plus its
  // bytes. Bounds a reply of many small elements that each pass the limits
  // above.
  int64_t max_reply_bytes = int64_t{1} << 30;
};

enum class ReplyResult {
  kNeedMore,  // no complete reply yet: keep the unconsumed bytes
  kReply,     // `*out` holds one reply
  kError,     // malformed stream: error() says why; nothing more parses
};

class ReplyParser {
 public:
  explicit ReplyParser(const ReplyLimits& limits = {});
  ReplyParser(const ReplyParser&) = delete;
  ReplyParser& operator=(const ReplyParser&) = delete;

  // Parses from the front of `input` and sets `*consumed` to the bytes it
  // used; drop those and pass the rest, plus whatever arrives next, to the
  // next call. Input may be split anywhere, even one byte per call.
  // kReply: `*out` is replaced by the next reply (one per call: call again
  //   while kReply for pipelined replies).
  // kNeedMore: not an error. `*consumed` may be non-zero: complete lines
  //   and bulk bytes so far are kept in the parser, so only an incomplete
  //   line stays with the caller (at most max_line_bytes + 2 bytes).
  // kError: the connection is out of step; close it. `*consumed` counts
  //   the bytes before the malformed part.
  ReplyResult Parse(std::string_view input, size_t* consumed, Reply* out);

  // Why the last kError, e.g. "Protocol error: invalid bulk length";
  // empty before any.
  const std::string& error() const { return error_; }

  // Forgets any partial reply and error, e.g. for a new connection.
  void Reset();

 private:
  enum class State { kType, kBulkData, kBulkEnd, kError };
  enum class Step { kContinue, kNeedMore, kReply, kError };
  // An array still being filled; the innermost is the last.
  struct Frame {
    Reply array;
    int64_t left = 0;  // elements still to come
  };

  Step ParseType(std::string_view input, size_t* pos);
  Step ParseBulkData(std::string_view input, size_t* pos);
  Step ParseBulkEnd(std::string_view input, size_t* pos);
  // Adds a finished value to the innermost array, closing arrays that are
  // then full. kReply when the outermost value is done (in done_).
  Step Finish(Reply value);
  // Counts `bytes` against max_reply_bytes.
  bool Charge(int64_t bytes);
  Step Fail(std::string message);

  ReplyLimits limits_;
  State state_ = State::kType;
  std::vector<Frame> stack_;
  Reply bulk_;             // the bulk string being read
  int64_t bulk_left_ = 0;  // its bytes still to come
  int64_t charged_ = 0;    // cost of the current reply so far
  Reply done_;             // the finished reply, until handed out
  std::string error_;
};

}  // namespace ember::protocol
