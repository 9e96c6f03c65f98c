// bench/codec.h: how the load generator speaks to one kind of server: it
// encodes GET and SET requests and recognises whole replies. RespCodec
// (Redis, ember-server) and MemcacheCodec (memcached's text protocol).
// Thread safety: one connection per Codec (a codec keeps parse state);
// create one per connection with the factory.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ember::bench {

// What one reply says about its request.
enum class ReplyKind {
  kHit,     // GET found the key
  kMiss,    // GET found nothing: normal before a --load
  kStored,  // SET succeeded
  kError,   // the server refused the request (an error reply)
};

enum class ParseStatus {
  kNeedMore,  // no whole reply yet; keep the unconsumed bytes, read more
  kReply,     // one reply; *kind says what it was
  kBroken,    // the stream cannot be framed; *error says why
};

class Codec {
 public:
  virtual ~Codec() = default;
  // Append one request to `*out` (which is only appended to).
  virtual void AppendGet(std::string_view key, std::string* out) = 0;
  virtual void AppendSet(std::string_view key, std::string_view value,
                         std::string* out) = 0;
  // Parses one reply from the front of `input`; `*consumed` is set to the
  // bytes used (possibly non-zero on kNeedMore: the codec may keep partial
  // replies). Call again after kReply for pipelined replies.
  virtual ParseStatus Parse(std::string_view input, size_t* consumed,
                            ReplyKind* kind, std::string* error) = 0;
};

using CodecFactory = std::function<std::unique_ptr<Codec>()>;

// RESP2: requests through protocol/resp_writer.h, replies through
// protocol/resp_reply.h's bounded ReplyParser.
std::unique_ptr<Codec> MakeRespCodec();
// How the memcache codec asks for a key. kMeta, "mg <key> v" (memcached
// 1.6 and later), lets memcached batch pipelined replies into one write;
// kClassic, "get <key>", works with any memcached but is answered with one
// write per request (memcached flushes after each classic get).
enum class MemcacheGet { kMeta, kClassic };

// memcached text protocol: GET as `get` says, "set k 0 0 n"; replies
// VA/EN or VALUE/END (either, whatever `get`), STORED.
std::unique_ptr<Codec> MakeMemcacheCodec(MemcacheGet get);

}  // namespace ember::bench
