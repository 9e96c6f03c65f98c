// tests/fuzz/resp_parser_fuzz.cc: libFuzzer target for the RESP2 request
// parser (protocol/resp_parser.h), fed in pieces, with small limits so the
// fuzzer reaches them. A command is never empty, no argument exceeds the
// bulk limit (an inline one, the line limit: Redis bounds inline commands
// by their line only), and an error always says why.
#include <algorithm>
#include <cstdlib>

#include "protocol/resp_parser.h"
#include "tests/fuzz/fuzz_split.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember::protocol;
  ParserLimits limits;
  limits.max_inline_bytes = 256;
  limits.max_multibulk_args = 64;
  limits.max_bulk_bytes = 4096;
  limits.unauthenticated = size > 0 && (data[0] & 0x80) != 0;
  RespParser parser(limits);
  Command cmd;
  ember::fuzz::FeedInPieces(data, size, [&](std::string_view in, size_t* used) {
    switch (parser.Parse(in, used, &cmd)) {
      case ParseResult::kCommand: {
        const size_t most_args = std::max<size_t>(limits.max_multibulk_args,
                                                  limits.max_inline_bytes);
        const size_t most_bytes =
            std::max<size_t>(limits.max_bulk_bytes, limits.max_inline_bytes);
        if (cmd.empty() || cmd.size() > most_args) std::abort();
        for (const std::string& a : cmd) {
          if (a.size() > most_bytes) std::abort();
        }
        return 1;
      }
      case ParseResult::kNeedMore:
        return 0;
      case ParseResult::kError:
        if (parser.error().empty()) std::abort();
        return -1;
    }
    return -1;
  });
  return 0;
}
