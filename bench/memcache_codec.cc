// bench/memcache_codec.cc: the memcached text-protocol codec of the load
// generator: "set" with flags 0 and no expiry, and GET as the meta command
// "mg <key> v" (memcached 1.6+) or the classic "get <key>". It consumes
// whole replies only, so it keeps no state between calls.
//
// Why meta by default: memcached ends every classic "get" by flushing its
// reply (one sendmsg per request, even with more requests already read),
// while "mg", like "set", queues its reply until the read buffer is
// drained. Pipelined classic GETs thus measure a write per request, not
// memcached's lookups (bench/README.md has the figures).
#include <charconv>
#include <string>

#include "bench/codec.h"

namespace ember::bench {
namespace {

constexpr size_t kMaxLine = 2048;  // longer than any reply line we expect

// The data byte count of a value line: the last token of "VALUE <key>
// <flags> <bytes>" (last_token), else the second of "VA <bytes> <flags>...".
// false if it is not a number.
bool ValueBytes(std::string_view line, bool last_token, size_t* bytes) {
  const size_t from = last_token ? line.rfind(' ') + 1 : line.find(' ') + 1;
  size_t to = last_token ? line.size() : line.find(' ', from);
  if (to == line.npos) to = line.size();
  const char* end = line.data() + to;
  auto [ptr, ec] = std::from_chars(line.data() + from, end, *bytes);
  return from < to && ec == std::errc() && ptr == end;
}

class MemcacheCodec : public Codec {
 public:
  explicit MemcacheCodec(MemcacheGet get) : get_(get) {}

  void AppendGet(std::string_view key, std::string* out) override {
    if (get_ == MemcacheGet::kMeta) {
      out->append("mg ").append(key).append(" v\r\n");
    } else {
      out->append("get ").append(key).append("\r\n");
    }
  }
  void AppendSet(std::string_view key, std::string_view value,
                 std::string* out) override {
    out->append("set ").append(key).append(" 0 0 ");
    out->append(std::to_string(value.size())).append("\r\n");
    out->append(value).append("\r\n");
  }
  // Either GET form's replies are recognised, whatever get_ is: the parse
  // needs no state, and a stray reply of the other form still frames.
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
    const bool classic = line.rfind("VALUE ", 0) == 0;
    if (line == "STORED") {
      *kind = ReplyKind::kStored;
    } else if (line == "END" || line == "EN") {
      *kind = ReplyKind::kMiss;
    } else if (classic || line.rfind("VA ", 0) == 0) {
      // "VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n", or
      // "VA <bytes> [<flags>]\r\n<data>\r\n".
      size_t bytes = 0;
      if (!ValueBytes(line, classic, &bytes)) {
        *error = "bad value line: " + std::string(line.substr(0, 80));
        return ParseStatus::kBroken;
      }
      const std::string_view trailer = classic ? "\r\nEND\r\n" : "\r\n";
      const size_t total = used + bytes + trailer.size();
      if (in.size() < total) return ParseStatus::kNeedMore;
      if (in.substr(used + bytes, trailer.size()) != trailer) {
        *error = classic ? "a VALUE block does not end with END"
                         : "a VA block does not end with CRLF";
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

 private:
  const MemcacheGet get_;
};

}  // namespace

std::unique_ptr<Codec> MakeMemcacheCodec(MemcacheGet get) {
  return std::make_unique<MemcacheCodec>(get);
}

}  // namespace ember::bench
