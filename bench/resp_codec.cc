// bench/resp_codec.cc: the RESP2 codec of the load generator: SET and GET
// as bulk arrays (protocol/resp_writer.h), replies through
// protocol::ReplyParser.
#include "bench/codec.h"
#include "protocol/resp_reply.h"
#include "protocol/resp_writer.h"

namespace ember::bench {
namespace {

class RespCodec : public Codec {
 public:
  void AppendGet(std::string_view key, std::string* out) override {
    protocol::AppendBulkArray(out, {"GET", key});
  }
  void AppendSet(std::string_view key, std::string_view value,
                 std::string* out) override {
    protocol::AppendBulkArray(out, {"SET", key, value});
  }
  ParseStatus Parse(std::string_view input, size_t* consumed, ReplyKind* kind,
                    std::string* error) override {
    switch (parser_.Parse(input, consumed, &reply_)) {
      case protocol::ReplyResult::kNeedMore:
        return ParseStatus::kNeedMore;
      case protocol::ReplyResult::kError:
        *error = parser_.error();
        return ParseStatus::kBroken;
      case protocol::ReplyResult::kReply:
        break;
    }
    using K = protocol::Reply::Kind;
    switch (reply_.kind) {
      case K::kBulk:
        *kind = ReplyKind::kHit;
        break;
      case K::kNull:
        *kind = ReplyKind::kMiss;
        break;
      case K::kStatus:
        *kind = ReplyKind::kStored;  // "+OK"
        break;
      default:
        *kind = ReplyKind::kError;
        break;
    }
    return ParseStatus::kReply;
  }

 private:
  protocol::ReplyParser parser_;
  protocol::Reply reply_;  // reused: keeps its string's capacity
};

}  // namespace

std::unique_ptr<Codec> MakeRespCodec() { return std::make_unique<RespCodec>(); }

}  // namespace ember::bench
