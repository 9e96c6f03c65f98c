// protocol/resp_parser.h: an incremental, bounded parser of RESP2 requests,
// framed as Redis frames them (networking.c, processMultibulkBuffer and
// processInlineBuffer): multibulk `*N\r\n$len\r\n<bytes>\r\n...` and inline
// lines (split by protocol/inline_args.h). Error texts are Redis's.
// Thread safety: one thread at a time per RespParser; give each connection
// its own. Depends only on std.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::protocol {

// One request: the command name and its arguments, binary-safe copies that
// the caller owns. Never empty when returned by RespParser::Parse.
using Command = std::vector<std::string>;

// Hard limits; input beyond them is a protocol error, found before anything
// is allocated for it. Defaults are Redis's.
struct ParserLimits {
  // Bytes of an inline line before its '\n' (Redis PROTO_INLINE_MAX_SIZE),
  // and of a `*N` or `$len` line before its '\r'.
  size_t max_inline_bytes = 64 * 1024;
  // Arguments of one multibulk request.
  int64_t max_multibulk_args = 1024 * 1024;
  // Bytes of one bulk argument (Redis proto_max_bulk_len).
  int64_t max_bulk_bytes = 512 * 1024 * 1024;
  // Before AUTH (requirepass set), as Redis since 6.2.6: at most 10
  // arguments of at most 16 KiB each, so an unauthenticated client cannot
  // make the server buffer large requests.
  bool unauthenticated = false;
};

enum class ParseResult {
  kNeedMore,  // no complete command yet: keep the unconsumed bytes
  kCommand,   // `*out` holds one command
  kError,     // malformed stream: error() says why; nothing more parses
};

class RespParser {
 public:
  explicit RespParser(const ParserLimits& limits = {});
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  // Parses from the front of `input` and sets `*consumed` to the bytes it
  // used; drop those and pass the rest, plus whatever arrives next, to the
  // next call. Input may be split anywhere, even one byte per call.
  // kCommand: `*out` is replaced by the next command (one per call, so call
  //   again while kCommand for pipelined requests). After any other result
  //   `*out` holds nothing useful (it may have been cleared).
  // kNeedMore: not an error. `*consumed` may be non-zero: complete bulk
  //   arguments (and bulk bytes so far) are copied into the parser, so only
  //   an incomplete `*N`, `$len` or inline line stays with the caller
  //   (at most max_inline_bytes + 1 bytes).
  // kError: reply `-ERR <error()>` and close the connection, as Redis does;
  //   `*consumed` counts the bytes before the malformed part.
  // Empty requests (an empty inline line, `*0`, `*-1`) are consumed and
  // skipped, as in Redis. Unlike Redis, the two bytes after a bulk argument
  // must be "\r\n", and so must the end of a `*N` or `$len` line.
  ParseResult Parse(std::string_view input, size_t* consumed, Command* out);

  // The last protocol error, e.g. "Protocol error: invalid bulk length";
  // empty before any. Contains no "-ERR " prefix.
  const std::string& error() const { return error_; }

  // Forgets any partial command and error, e.g. to reuse the parser for a
  // new connection.
  void Reset();
  // Lifts the unauthenticated limits (after a successful AUTH or HELLO).
  void SetAuthenticated() { limits_.unauthenticated = false; }
  // Changes max_bulk_bytes (CONFIG SET proto-max-bulk-len); it applies to
  // the next `$len` line.
  void SetMaxBulkBytes(int64_t n) { limits_.max_bulk_bytes = n; }
  int64_t max_bulk_bytes() const { return limits_.max_bulk_bytes; }

 private:
  enum class State { kStart, kBulkHeader, kBulkData, kBulkEnd, kError };
  enum class Step { kContinue, kNeedMore, kCommand, kError };

  Step ParseMultibulkCount(std::string_view input, size_t* pos);
  Step ParseBulkHeader(std::string_view input, size_t* pos);
  Step ParseBulkData(std::string_view input, size_t* pos);
  Step ParseBulkEnd(std::string_view input, size_t* pos);
  Step ParseInline(std::string_view input, size_t* pos, Command* out);
  Step Fail(std::string message);

  ParserLimits limits_;
  State state_ = State::kStart;
  int64_t args_left_ = 0;  // bulk arguments still to read in this request
  int64_t bulk_left_ = 0;  // bytes of the current bulk argument to read
  Command args_;           // arguments of the multibulk request so far
  std::string error_;
};

}  // namespace ember::protocol
