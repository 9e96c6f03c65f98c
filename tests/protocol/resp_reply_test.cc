// ReplyParser reads every RESP2 reply a server sends, in any split, and
// refuses replies over its limits before allocating for them.
#include "protocol/resp_reply.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/str_cat.h"

namespace ember::protocol {
namespace {

using namespace std::string_literals;

// Bytes malloc has handed out, big (mmapped) blocks included.
long long HeapBytes() {
  struct mallinfo2 info = mallinfo2();
  return static_cast<long long>(info.uordblks + info.hblkhd);
}

class ReplyParserTest : public ::testing::Test {
 protected:
  // Feeds the chunks to a new parser as a client would: appends each to the
  // unconsumed bytes and parses until it needs more or fails. Returns the
  // replies parsed.
  std::vector<Reply> FeedChunks(const std::vector<std::string>& chunks) {
    parser_ = std::make_unique<ReplyParser>(limits_);
    pending_.clear();
    std::vector<Reply> replies;
    for (const std::string& chunk : chunks) {
      pending_ += chunk;
      for (;;) {
        size_t consumed = 0;
        Reply reply;
        last_ = parser_->Parse(pending_, &consumed, &reply);
        EXPECT_LE(consumed, pending_.size());
        pending_.erase(0, consumed);
        if (last_ != ReplyResult::kReply) break;
        replies.push_back(std::move(reply));
      }
      if (last_ == ReplyResult::kError) break;
    }
    return replies;
  }
  std::vector<Reply> Feed(const std::string& input) {
    return FeedChunks({input});
  }
  // The error text `input` ends in; fails the test if it parses.
  std::string ErrorOf(const std::string& input) {
    Feed(input);
    EXPECT_EQ(last_, ReplyResult::kError) << "input: " << input;
    return parser_->error();
  }

  ReplyLimits limits_;
  std::unique_ptr<ReplyParser> parser_;
  std::string pending_;  // bytes the parser has not consumed yet
  ReplyResult last_ = ReplyResult::kNeedMore;
};

// Every kind of reply, pipelined, and the values they hold.
const std::string kPipeline =
    "+OK\r\n"
    "-ERR value is not an integer or out of range\r\n"
    ":-42\r\n"
    "$8\r\nv\0\r\n$3\r\n\r\n"
    "$0\r\n\r\n"
    "$-1\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n*2\r\n:1\r\n$-1\r\n-WRONGTYPE x\r\n*1\r\n*0\r\n"
    ":9223372036854775807\r\n"s;
const std::vector<Reply> kPipelineReplies = {
    Reply::Status("OK"),
    Reply::Error("ERR value is not an integer or out of range"),
    Reply::Integer(-42),
    Reply::Bulk("v\0\r\n$3\r\n"s),
    Reply::Bulk(""),
    Reply::Null(),
    Reply::Null(),
    Reply::Array({}),
    Reply::Array({Reply::Array({Reply::Integer(1), Reply::Null()}),
                  Reply::Error("WRONGTYPE x"),
                  Reply::Array({Reply::Array({})})}),
    Reply::Integer(INT64_MAX)};

TEST_F(ReplyParserTest, ParsesEveryKindPipelined) {
  EXPECT_EQ(Feed(kPipeline), kPipelineReplies);
  EXPECT_EQ(last_, ReplyResult::kNeedMore);
  EXPECT_TRUE(pending_.empty());
}

TEST_F(ReplyParserTest, SameRepliesWhereverTheInputIsSplit) {
  for (size_t i = 0; i <= kPipeline.size(); ++i) {
    EXPECT_EQ(FeedChunks({kPipeline.substr(0, i), kPipeline.substr(i)}),
              kPipelineReplies)
        << "split at " << i;
  }
}

TEST_F(ReplyParserTest, SameRepliesOneByteAtATime) {
  std::vector<std::string> bytes;
  for (char c : kPipeline) bytes.emplace_back(1, c);
  EXPECT_EQ(FeedChunks(bytes), kPipelineReplies);
}

TEST_F(ReplyParserTest, KeepsOnlyAnIncompleteLineWithTheCaller) {
  FeedChunks({"$5\r\nab"});
  EXPECT_EQ(last_, ReplyResult::kNeedMore);
  EXPECT_TRUE(pending_.empty());  // the bulk bytes so far are in the parser
  FeedChunks({"*2\r\n:1\r\n:2"});
  EXPECT_EQ(pending_, ":2");
}

TEST_F(ReplyParserTest, EncodingRoundTrips) {
  std::string bytes;
  for (const Reply& r : kPipelineReplies) AppendReply(&bytes, r);
  // "*-1" comes back as "$-1": both are the one null value.
  EXPECT_EQ(Feed(bytes), kPipelineReplies);
}

TEST_F(ReplyParserTest, DebugStringShowsKindsAndEscapesBytes) {
  EXPECT_EQ(ToDebugString(Reply::Array({Reply::Status("OK"), Reply::Integer(3),
                                        Reply::Bulk("a\0\"b"s), Reply::Null(),
                                        Reply::Error("ERR x")})),
            "[+OK, :3, \"a\\x00\\\"b\", (nil), -ERR x]");
}

TEST_F(ReplyParserTest, RejectsMalformedReplies) {
  EXPECT_EQ(ErrorOf("?x\r\n"),
            "Protocol error: unexpected reply type byte '?'");
  EXPECT_EQ(ErrorOf("+OK\rX"), "Protocol error: reply line not ended by CRLF");
  EXPECT_EQ(ErrorOf(":12a\r\n"), "Protocol error: invalid integer");
  EXPECT_EQ(ErrorOf(":\r\n"), "Protocol error: invalid integer");
  EXPECT_EQ(ErrorOf(":99999999999999999999\r\n"),
            "Protocol error: invalid integer");
  EXPECT_EQ(ErrorOf("$-2\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("$x\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(ErrorOf("$3\r\nabcd\r\n"),
            "Protocol error: bulk string not followed by CRLF");
  EXPECT_EQ(ErrorOf("*-2\r\n"), "Protocol error: invalid array length");
  EXPECT_EQ(ErrorOf("*2\r\n:1\r\nX"),
            "Protocol error: unexpected reply type byte 'X'");
}

TEST_F(ReplyParserTest, ErrorIsFinalUntilReset) {
  Feed("+OK\r\n!");
  ASSERT_EQ(last_, ReplyResult::kError);
  size_t consumed = 0;
  Reply reply;
  EXPECT_EQ(parser_->Parse("+OK\r\n", &consumed, &reply), ReplyResult::kError);
  EXPECT_EQ(consumed, 0u);
  parser_->Reset();
  EXPECT_TRUE(parser_->error().empty());
  EXPECT_EQ(parser_->Parse("+OK\r\n", &consumed, &reply), ReplyResult::kReply);
  EXPECT_EQ(reply, Reply::Status("OK"));
}

TEST_F(ReplyParserTest, RejectsALongLineBeforeItsEndArrives) {
  limits_.max_line_bytes = 16;
  EXPECT_EQ(Feed("+" + std::string(16, 'a') + "\r\n").size(), 1u);
  FeedChunks({"+" + std::string(17, 'a')});  // no "\r\n" yet
  EXPECT_EQ(last_, ReplyResult::kError);
  EXPECT_EQ(parser_->error(), "Protocol error: too big reply line");
}

TEST_F(ReplyParserTest, RejectsBulkOverLimit) {
  limits_.max_bulk_bytes = 10;
  EXPECT_EQ(Feed("$10\r\n0123456789\r\n").size(), 1u);
  EXPECT_EQ(ErrorOf("$11\r\n"), "Protocol error: invalid bulk length");
}

TEST_F(ReplyParserTest, RejectsArrayOverLimit) {
  limits_.max_array_elements = 2;
  EXPECT_EQ(Feed("*2\r\n:1\r\n:2\r\n").size(), 1u);
  EXPECT_EQ(ErrorOf("*3\r\n"), "Protocol error: invalid array length");
}

TEST_F(ReplyParserTest, RejectsNestingOverLimit) {
  limits_.max_depth = 2;
  EXPECT_EQ(Feed("*1\r\n*1\r\n:1\r\n").size(), 1u);
  EXPECT_EQ(Feed("*1\r\n*0\r\n").size(), 1u);  // an empty array opens nothing
  EXPECT_EQ(ErrorOf("*1\r\n*1\r\n*1\r\n"),
            "Protocol error: arrays nested too deep");
}

TEST_F(ReplyParserTest, RejectsReplyOverTotalSize) {
  // Each element passes the other limits; together they cost too much.
  limits_.max_reply_bytes = 100 * static_cast<int64_t>(sizeof(Reply));
  std::string many = "*1000\r\n";
  for (int i = 0; i < 1000; ++i) many += ":1\r\n";
  EXPECT_EQ(ErrorOf(many), "Protocol error: reply too big");
  EXPECT_EQ(ErrorOf(ember::testing::Cat("$", limits_.max_reply_bytes) + "\r\n"),
            "Protocol error: reply too big");
  // The budget is per reply: many small replies in a row are fine.
  std::string small;
  for (int i = 0; i < 1000; ++i) small += ":1\r\n";
  EXPECT_EQ(Feed(small).size(), 1000u);
}

TEST_F(ReplyParserTest, AnnouncedSizesAllocateNothing) {
  // A server claiming a 512 MiB bulk or a million elements and sending a
  // few bytes costs the client about those bytes, not the claim.
  long long before = HeapBytes();
  FeedChunks({"$536870912\r\nabc"});
  EXPECT_EQ(last_, ReplyResult::kNeedMore);
  EXPECT_LT(HeapBytes() - before, 1 << 20);
  FeedChunks({"*1048576\r\n*1048576\r\n:1\r\n"});
  EXPECT_EQ(last_, ReplyResult::kNeedMore);
  EXPECT_LT(HeapBytes() - before, 1 << 20);
}

}  // namespace
}  // namespace ember::protocol
