// bench/memcache_codec.cc: the memcached text-protocol codec of the load
// generator ("get" and "set" with flags 0 and no expiry). It consumes
// whole replies only, so it keeps no state between calls.
#include <charconv>
#include <string>

#include "bench/codec.h"

namespace ember::bench {
namespace {

constexpr size_t kMaxLine = 2048;  // longer than any reply line we expect

class MemcacheCodec : public Codec {
 public:
  void AppendGet(std::string_view key, std::string* out) override {
    out->append("get ").append(key).append("\r\n");
  }
  void AppendSet(std::string_view key, std::string_view value,
                 std::string* out) override {
    out->append("set ").append(key).append(" 0 0 ");
    out->append(std::to_string(value.size())).append("\r\n");
    out->append(value).append("\r\n");
  }
  ParseStatus Parse(std::string_view in, size_t* consumed, ReplyKind* kind,
                    std::string* error) override {
    *consumed = 0;
    const size_t eol = in.find("\r\n");
    if (eol == in.npos) {
      if (in.size() <= kMaxLine) return ParseStatus::kNeedMore;
      *error = "reply line over " + std::to_string(kMaxLine) + " bytes";
      return ParseStatus::kBroken;
    }
    const std::string_view line = in.substr(0, eol);
    size_t used = eol + 2;
    if (line == "STORED") {
      *kind = ReplyKind::kStored;
    } else if (line == "END") {
      *kind = ReplyKind::kMiss;
    } else if (line.rfind("VALUE ", 0) == 0) {
      // "VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n"
      const size_t sp = line.rfind(' ');
      size_t bytes = 0;
      const char* end = line.data() + line.size();
      auto [ptr, ec] = std::from_chars(line.data() + sp + 1, end, bytes);
      if (ec != std::errc() || ptr != end) {
        *error = "bad VALUE line: " + std::string(line);
        return ParseStatus::kBroken;
      }
      const size_t total = used + bytes + 2 + 5;  // data, CRLF, "END\r\n"
      if (in.size() < total) return ParseStatus::kNeedMore;
      if (in.substr(used + bytes, 7) != "\r\nEND\r\n") {
        *error = "a VALUE block does not end with END";
        return ParseStatus::kBroken;
      }
      used = total;
      *kind = ReplyKind::kHit;
    } else if (line == "ERROR" || line.rfind("CLIENT_ERROR", 0) == 0 ||
               line.rfind("SERVER_ERROR", 0) == 0 || line == "NOT_STORED") {
      *kind = ReplyKind::kError;
    } else {
      *error = "unexpected reply: " + std::string(line.substr(0, 80));
      return ParseStatus::kBroken;
    }
    *consumed = used;
    return ParseStatus::kReply;
  }
};

}  // namespace

std::unique_ptr<Codec> MakeMemcacheCodec() {
  return std::make_unique<MemcacheCodec>();
}

}  // namespace ember::bench
