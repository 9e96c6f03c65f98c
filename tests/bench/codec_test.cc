// tests/bench/codec_test.cc: the load generator's codecs encode what the
// servers expect and recognise whole replies only, split anywhere.
#include "bench/codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ember::bench {
namespace {

// Feeds `bytes` to `codec` one byte at a time, as a slow socket would, and
// returns the kinds of the replies found; "broken" ends the list.
std::vector<std::string> ParseSplit(Codec& codec, const std::string& bytes) {
  std::vector<std::string> kinds;
  std::string pending;
  for (char ch : bytes) {
    pending.push_back(ch);
    for (;;) {
      size_t consumed = 0;
      ReplyKind kind;
      std::string error;
      const ParseStatus s = codec.Parse(pending, &consumed, &kind, &error);
      pending.erase(0, consumed);
      if (s == ParseStatus::kNeedMore) break;
      if (s == ParseStatus::kBroken) {
        kinds.push_back("broken");
        return kinds;
      }
      kinds.push_back(kind == ReplyKind::kHit      ? "hit"
                      : kind == ReplyKind::kMiss   ? "miss"
                      : kind == ReplyKind::kStored ? "stored"
                                                   : "error");
    }
  }
  return kinds;
}

using Kinds = std::vector<std::string>;

TEST(CodecTest, RespEncodesBulkArrays) {
  auto c = MakeRespCodec();
  std::string out;
  c->AppendGet("k1", &out);
  c->AppendSet("k1", "v\r\n", &out);
  EXPECT_EQ(out,
            "*2\r\n$3\r\nGET\r\n$2\r\nk1\r\n"
            "*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$3\r\nv\r\n\r\n");
}

TEST(CodecTest, RespRepliesSplitAnywhere) {
  auto c = MakeRespCodec();
  EXPECT_EQ(ParseSplit(*c, "+OK\r\n$3\r\nabc\r\n$-1\r\n-ERR no\r\n"),
            (Kinds{"stored", "hit", "miss", "error"}));
  EXPECT_EQ(ParseSplit(*c, "?bad\r\n"), (Kinds{"broken"}));
}

TEST(CodecTest, MemcacheEncodesTextCommands) {
  auto c = MakeMemcacheCodec(MemcacheGet::kClassic);
  std::string out;
  c->AppendGet("k1", &out);
  c->AppendSet("k1", "hello", &out);
  EXPECT_EQ(out, "get k1\r\nset k1 0 0 5\r\nhello\r\n");
}

// memcached flushes each classic "get" reply on its own write, so pipelined
// GETs go out as meta gets, whose replies memcached batches.
TEST(CodecTest, MemcachePipelinesGetsAsMetaGets) {
  auto c = MakeMemcacheCodec(MemcacheGet::kMeta);
  std::string out;
  c->AppendGet("k1", &out);
  c->AppendGet("k2", &out);
  c->AppendSet("k1", "hello", &out);
  EXPECT_EQ(out, "mg k1 v\r\nmg k2 v\r\nset k1 0 0 5\r\nhello\r\n");
}

TEST(CodecTest, MemcacheMetaRepliesSplitAnywhere) {
  auto c = MakeMemcacheCodec(MemcacheGet::kMeta);
  EXPECT_EQ(ParseSplit(*c,
                       "VA 4\r\na\r\nb\r\nEN\r\nVA 2 f0\r\nhi\r\n"
                       "STORED\r\n"),
            (Kinds{"hit", "miss", "hit", "stored"}));
  EXPECT_EQ(ParseSplit(*c, "VA 1\r\nxy\r\n"), (Kinds{"broken"}));
  EXPECT_EQ(ParseSplit(*c, "VA x\r\n"), (Kinds{"broken"}));
}

TEST(CodecTest, MemcacheRepliesSplitAnywhere) {
  auto c = MakeMemcacheCodec(MemcacheGet::kClassic);
  EXPECT_EQ(ParseSplit(*c,
                       "STORED\r\nVALUE k1 0 4\r\na\r\nb\r\nEND\r\nEND\r\n"
                       "SERVER_ERROR out of memory\r\n"),
            (Kinds{"stored", "hit", "miss", "error"}));
  EXPECT_EQ(ParseSplit(*c, "VALUE k1 0 1\r\nxy\r\nEND\r\n"), (Kinds{"broken"}));
  EXPECT_EQ(ParseSplit(*c, "WHAT\r\n"), (Kinds{"broken"}));
}

}  // namespace
}  // namespace ember::bench
