// RespParser frames what Redis frames, in any split, and rejects what Redis
// rejects with Redis's error text, before allocating for it.
#include "protocol/resp_parser.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

namespace ember::protocol {
namespace {

using namespace std::string_literals;

// Bytes malloc has handed out, big (mmapped) blocks included.
long long HeapBytes() {
  struct mallinfo2 info = mallinfo2();
  return static_cast<long long>(info.uordblks + info.hblkhd);
}

class RespParserTest : public ::testing::Test {
 protected:
  RespParser& parser() {
    if (!parser_) parser_ = std::make_unique<RespParser>(limits_);
    return *parser_;
  }
  // Feeds the chunks, on a new connection, one after another as a server
  // would: appends each to the unconsumed bytes and parses until the parser
  // needs more or fails. Returns the commands parsed.
  std::vector<Command> FeedChunks(const std::vector<std::string>& chunks) {
    parser_.reset();
    pending_.clear();
    std::vector<Command> commands;
    for (const std::string& chunk : chunks) {
      pending_ += chunk;
      for (;;) {
        size_t consumed = 0;
        Command command;
        last_ = parser().Parse(pending_, &consumed, &command);
        EXPECT_LE(consumed, pending_.size());
        pending_.erase(0, consumed);
        if (last_ != ParseResult::kCommand) break;
        EXPECT_FALSE(command.empty());
        commands.push_back(std::move(command));
      }
      if (last_ == ParseResult::kError) break;
    }
    return commands;
  }
  std::vector<Command> Feed(const std::string& input) {
    return FeedChunks({input});
  }
  // The error text `input` ends in; fails the test if it parses.
  std::string ErrorOf(const std::string& input) {
    Feed(input);
    EXPECT_EQ(last_, ParseResult::kError) << "input: " << input;
    return parser().error();
  }

  ParserLimits limits_;
  std::unique_ptr<RespParser> parser_;
  std::string pending_;  // bytes the parser has not consumed yet
  ParseResult last_ = ParseResult::kNeedMore;
};

// Several requests of every kind, pipelined, and the commands they hold.
const std::string kPipeline =
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8\r\nv\0\r\n$3\r\n\r\n"
    "\r\n"
    "*0\r\n"
    "GET  \"my key\"\t'x y'\r\n"
    "*-1\r\n"
    "*1\r\n$4\r\nPING\r\n"
    "ECHO \"\\x41\\n\"\n"s;
const std::vector<Command> kPipelineCommands = {{"SET", "k", "v\0\r\n$3\r\n"s},
                                                {"GET", "my key", "x y"},
                                                {"PING"},
                                                {"ECHO", "A\n"}};

TEST_F(RespParserTest, MultibulkRequestGivesItsArguments) {
  EXPECT_EQ(Feed("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"),
            (std::vector<Command>{{"SET", "key", "value"}}));
  EXPECT_TRUE(pending_.empty());
  EXPECT_EQ(last_, ParseResult::kNeedMore);
}

TEST_F(RespParserTest, EachCallReturnsOneCommandAndTheBytesItUsed) {
  std::string first = "*1\r\n$4\r\nPING\r\n";
  std::string input = first + "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n";
  size_t consumed = 0;
  Command command;
  ASSERT_EQ(parser().Parse(input, &consumed, &command), ParseResult::kCommand);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(command, (Command{"PING"}));
  input.erase(0, consumed);
  ASSERT_EQ(parser().Parse(input, &consumed, &command), ParseResult::kCommand);
  EXPECT_EQ(consumed, input.size());
  EXPECT_EQ(command, (Command{"ECHO", "hi"}));
}

// Quoting rules are tested in inline_args_test.cc.
TEST_F(RespParserTest, InlineCommandSplitsOnSpacesTabsAndQuotes) {
  EXPECT_EQ(Feed("SET  key\t\"a \\x41\" \r\nPING\n"),
            (std::vector<Command>{{"SET", "key", "a A"}, {"PING"}}));
}

TEST_F(RespParserTest, EmptyLinesAndEmptyMultibulksAreSkipped) {
  std::string input = "\r\n\n  \t\r\n*0\r\n*-1\r\n*-10\r\nPING\r\n";
  size_t consumed = 0;
  Command command;
  ASSERT_EQ(parser().Parse(input, &consumed, &command), ParseResult::kCommand);
  EXPECT_EQ(command, (Command{"PING"}));
  EXPECT_EQ(consumed, input.size());
  ASSERT_EQ(parser().Parse("\r\n*0\r\n", &consumed, &command),
            ParseResult::kNeedMore);
  EXPECT_EQ(consumed, 6u);
}

TEST_F(RespParserTest, PipelineOfEveryKindGivesItsCommandsInOrder) {
  EXPECT_EQ(Feed(kPipeline), kPipelineCommands);
  EXPECT_TRUE(pending_.empty());
}

TEST_F(RespParserTest, EveryTwoWaySplitGivesTheSameCommands) {
  for (size_t split = 0; split <= kPipeline.size(); ++split) {
    EXPECT_EQ(FeedChunks({kPipeline.substr(0, split), kPipeline.substr(split)}),
              kPipelineCommands)
        << "split at " << split;
    EXPECT_TRUE(pending_.empty());
  }
}

TEST_F(RespParserTest, OneByteAtATimeGivesTheSameCommands) {
  std::vector<std::string> bytes;
  for (char c : kPipeline) bytes.push_back(std::string(1, c));
  EXPECT_EQ(FeedChunks(bytes), kPipelineCommands);
  EXPECT_TRUE(pending_.empty());
}

TEST_F(RespParserTest, PartialBulkIsConsumedSoTheCallerKeepsOnlyALine) {
  size_t consumed = 0;
  Command command;
  EXPECT_EQ(parser().Parse("*2\r\n$5\r\nhel", &consumed, &command),
            ParseResult::kNeedMore);
  EXPECT_EQ(consumed, 11u);  // all of it
  EXPECT_EQ(parser().Parse("lo\r\n$1", &consumed, &command),
            ParseResult::kNeedMore);
  EXPECT_EQ(consumed, 4u);  // "$1" is an unfinished line: passed again
  EXPECT_EQ(parser().Parse("$1\r\nx\r\n", &consumed, &command),
            ParseResult::kCommand);
  EXPECT_EQ(command, (Command{"hello", "x"}));
}

TEST_F(RespParserTest, BulkArgumentsAreBinarySafe) {
  std::string value = "\0\r\n*1\r\n$0\r\n\xff"s;
  EXPECT_EQ(Feed("*2\r\n$3\r\nSET\r\n$12\r\n" + value + "\r\n"),
            (std::vector<Command>{{"SET", value}}));
}

TEST_F(RespParserTest, AMillionArgumentsWithinTheLimitAreAccepted) {
  std::string input = "*1000000\r\n";
  for (int i = 0; i < 1000000; ++i) input += "$1\r\nx\r\n";
  std::vector<Command> commands = Feed(input);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].size(), 1000000u);
  EXPECT_EQ(commands[0].back(), "x");
}

TEST_F(RespParserTest, AnnouncedArgumentsAreNotPreallocated) {
  size_t consumed = 0;
  Command command;
  long long before = HeapBytes();
  EXPECT_EQ(parser().Parse("*1048576\r\n$536870912\r\nab", &consumed, &command),
            ParseResult::kNeedMore);
  long long after = HeapBytes();
  EXPECT_LT(after - before, 256 * 1024);  // not 32 MiB of args, nor 512 MiB
}

TEST_F(RespParserTest, MultibulkCountOverTheLimitIsInvalid) {
  const std::string kInvalid = "Protocol error: invalid multibulk length";
  EXPECT_EQ(ErrorOf("*1048577\r\n"), kInvalid);
  EXPECT_EQ(ErrorOf("*20000000\r\n"), kInvalid);
  EXPECT_EQ(ErrorOf("*99999999999999999999999\r\n"), kInvalid);
  limits_.max_multibulk_args = 2;
  EXPECT_EQ(ErrorOf("*3\r\n"), kInvalid);
  EXPECT_EQ(Feed("*2\r\n$1\r\na\r\n$1\r\nb\r\n").size(), 1u);
}

TEST_F(RespParserTest, GarbageMultibulkCountIsInvalid) {
  for (const char* bad : {"*abc\r\n", "*\r\n", "*+3\r\n", "*03\r\n", "*-0\r\n",
                          "* 3\r\n", "*3 \r\n", "*3\rX"}) {
    EXPECT_EQ(ErrorOf(bad), "Protocol error: invalid multibulk length") << bad;
  }
}

TEST_F(RespParserTest, BulkLengthOf2To40IsRejectedBeforeAllocating) {
  EXPECT_EQ(ErrorOf("*1\r\n$1099511627776\r\n"),
            "Protocol error: invalid bulk length");
}

TEST_F(RespParserTest, BulkLengthOverTheLimitIsInvalid) {
  EXPECT_EQ(ErrorOf("*1\r\n$536870913\r\n"),
            "Protocol error: invalid bulk length");
  limits_.max_bulk_bytes = 4;
  EXPECT_EQ(ErrorOf("*1\r\n$5\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(Feed("*1\r\n$4\r\nabcd\r\n"), (std::vector<Command>{{"abcd"}}));
}

TEST_F(RespParserTest, NegativeOrGarbageBulkLengthIsInvalid) {
  for (const char* bad : {"$-1\r\n", "$-10\r\n", "$abc\r\n", "$\r\n", "$1x\r\n",
                          "$ 1\r\n", "$01\r\n", "$1\rX"}) {
    EXPECT_EQ(ErrorOf(std::string("*1\r\n") + bad),
              "Protocol error: invalid bulk length")
        << bad;
  }
}

TEST_F(RespParserTest, ArgumentWithoutDollarNamesTheByteFound) {
  EXPECT_EQ(ErrorOf("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            "Protocol error: expected '$', got 'f'");
  EXPECT_EQ(ErrorOf("*1\r\n:1\r\n"), "Protocol error: expected '$', got ':'");
}

TEST_F(RespParserTest, BulkNotFollowedByCrlfIsAnError) {
  EXPECT_EQ(ErrorOf("*1\r\n$3\r\nfooXY"),
            "Protocol error: bulk argument not followed by CRLF");
}

TEST_F(RespParserTest, OverLongInlineLineIsTooBig) {
  const std::string kTooBig = "Protocol error: too big inline request";
  EXPECT_EQ(ErrorOf(std::string(64 * 1024 + 1, 'a')), kTooBig);
  EXPECT_EQ(ErrorOf("GET " + std::string(70000, 'k') + "\r\n"), kTooBig);
  limits_.max_inline_bytes = 8;
  EXPECT_EQ(ErrorOf("12345678\r\n"), kTooBig);  // '\r' counts
  EXPECT_EQ(Feed("1234567\r\n12345678\n").size(), 2u);
}

TEST_F(RespParserTest, OverLongCountLinesAreTooBigEvenWhenTerminated) {
  const std::string kDigits(64 * 1024, '1');
  EXPECT_EQ(ErrorOf("*" + kDigits),
            "Protocol error: too big mbulk count string");
  EXPECT_EQ(ErrorOf("*" + kDigits + "\r\n"),
            "Protocol error: too big mbulk count string");
  EXPECT_EQ(ErrorOf("*1\r\n$" + kDigits),
            "Protocol error: too big bulk count string");
  EXPECT_EQ(ErrorOf("*1\r\n$" + kDigits + "\r\n"),
            "Protocol error: too big bulk count string");
}

TEST_F(RespParserTest, EveryTwoWaySplitOfABadStreamGivesTheSameError) {
  const std::string bad = kPipeline + "*1\r\n$2\r\nabc\r\n";
  for (size_t split = 0; split <= bad.size(); ++split) {
    EXPECT_EQ(FeedChunks({bad.substr(0, split), bad.substr(split)}),
              kPipelineCommands)
        << "split at " << split;
    EXPECT_EQ(last_, ParseResult::kError);
    EXPECT_EQ(parser().error(),
              "Protocol error: bulk argument not followed by CRLF");
  }
}

TEST_F(RespParserTest, UnbalancedQuotesAreAnError) {
  const std::string kUnbalanced =
      "Protocol error: unbalanced quotes in request";
  EXPECT_EQ(ErrorOf("set \"\"\"test-key\"\"\" test-value\r\n"), kUnbalanced);
  EXPECT_EQ(ErrorOf("GET \"abc\r\n"), kUnbalanced);
  EXPECT_EQ(ErrorOf("GET 'abc\r\n"), kUnbalanced);
}

TEST_F(RespParserTest, CommandsBeforeAnErrorAreStillReturned) {
  EXPECT_EQ(Feed("PING\r\n*1\r\n$1\r\na\r\n*x\r\nPING\r\n"),
            (std::vector<Command>{{"PING"}, {"a"}}));
  EXPECT_EQ(last_, ParseResult::kError);
  EXPECT_EQ(pending_, "*x\r\nPING\r\n");
}

TEST_F(RespParserTest, ErrorIsStickyUntilReset) {
  EXPECT_EQ(ErrorOf("*x\r\n"), "Protocol error: invalid multibulk length");
  size_t consumed = 1;
  Command command;
  EXPECT_EQ(parser().Parse("PING\r\n", &consumed, &command),
            ParseResult::kError);
  EXPECT_EQ(consumed, 0u);
  parser().Reset();
  EXPECT_TRUE(parser().error().empty());
  EXPECT_EQ(parser().Parse("PING\r\n", &consumed, &command),
            ParseResult::kCommand);
  EXPECT_EQ(command, (Command{"PING"}));
}

}  // namespace
}  // namespace ember::protocol

namespace ember::protocol {
namespace {

// Before AUTH a request has at most 10 arguments of at most 16 KiB (Redis
// since 6.2.6); after AUTH the normal limits apply.
TEST(UnauthenticatedParserTest, RefusesLargeRequestsUntilAuthenticated) {
  ParserLimits limits;
  limits.unauthenticated = true;
  Command cmd;
  size_t consumed = 0;
  {
    RespParser p(limits);
    EXPECT_EQ(p.Parse("*11\r\n", &consumed, &cmd), ParseResult::kError);
    EXPECT_EQ(p.error(), "Protocol error: unauthenticated multibulk length");
  }
  {
    RespParser p(limits);
    EXPECT_EQ(p.Parse("*2\r\n$16385\r\n", &consumed, &cmd),
              ParseResult::kError);
    EXPECT_EQ(p.error(), "Protocol error: unauthenticated bulk length");
  }
  {
    RespParser p(limits);
    ASSERT_EQ(p.Parse("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", &consumed, &cmd),
              ParseResult::kCommand);
    p.SetAuthenticated();
    const std::string big =
        "*1\r\n$20000\r\n" + std::string(20000, 'x') + "\r\n";
    EXPECT_EQ(p.Parse(big, &consumed, &cmd), ParseResult::kCommand);
    EXPECT_EQ(cmd[0].size(), 20000u);
  }
}

}  // namespace
}  // namespace ember::protocol
