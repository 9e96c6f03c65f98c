// tests/fuzz/resp_reply_fuzz.cc: libFuzzer target for the RESP2 reply
// parser (protocol/resp_reply.h) that RemoteClient trusts with whatever a
// server sends, fed in pieces, with small limits; every reply it returns
// encodes again (AppendReply) without fault.
#include <cstdlib>

#include "protocol/resp_reply.h"
#include "tests/fuzz/fuzz_split.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ember::protocol;
  ReplyLimits limits;
  limits.max_line_bytes = 256;
  limits.max_bulk_bytes = 4096;
  limits.max_array_elements = 64;
  limits.max_depth = 4;
  limits.max_reply_bytes = 1 << 20;
  ReplyParser parser(limits);
  Reply reply;
  std::string encoded;
  ember::fuzz::FeedInPieces(data, size, [&](std::string_view in, size_t* used) {
    switch (parser.Parse(in, used, &reply)) {
      case ReplyResult::kReply:
        encoded.clear();
        AppendReply(&encoded, reply);
        if (encoded.empty()) std::abort();
        return 1;
      case ReplyResult::kNeedMore:
        return 0;
      case ReplyResult::kError:
        return -1;
    }
    return -1;
  });
  return 0;
}
