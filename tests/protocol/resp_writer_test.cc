// The RESP2 writer produces exactly Redis's bytes, binary-safe, and never
// lets a simple string or error break the framing.
#include "protocol/resp_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "protocol/resp_parser.h"

namespace ember::protocol {
namespace {

using namespace std::string_literals;

class RespWriterTest : public ::testing::Test {
 protected:
  std::string out_;
};

TEST_F(RespWriterTest, SimpleStringAndOkAreOneLine) {
  AppendSimpleString(&out_, "PONG");
  AppendOk(&out_);
  EXPECT_EQ(out_, "+PONG\r\n+OK\r\n");
}

TEST_F(RespWriterTest, ErrorCarriesItsCode) {
  AppendError(&out_, "ERR unknown command 'foo'");
  EXPECT_EQ(out_, "-ERR unknown command 'foo'\r\n");
}

TEST_F(RespWriterTest, NewlinesInErrorsAndSimpleStringsBecomeSpaces) {
  AppendError(&out_, "ERR a\r\nb\nc");
  AppendSimpleString(&out_, "x\ry");
  EXPECT_EQ(out_, "-ERR a  b c\r\n+x y\r\n");
}

TEST_F(RespWriterTest, IntegersCoverTheWholeRange) {
  AppendInteger(&out_, 0);
  AppendInteger(&out_, -1);
  AppendInteger(&out_, std::numeric_limits<int64_t>::min());
  AppendInteger(&out_, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out_,
            ":0\r\n:-1\r\n:-9223372036854775808\r\n:9223372036854775807\r\n");
}

TEST_F(RespWriterTest, BulkIsBinarySafeAndNullIsMinusOne) {
  AppendBulk(&out_, "a\0\r\nb"s);
  AppendBulk(&out_, "");
  AppendNullBulk(&out_);
  EXPECT_EQ(out_, "$5\r\na\0\r\nb\r\n$0\r\n\r\n$-1\r\n"s);
}

TEST_F(RespWriterTest, ArrayHeadersCountTheirItems) {
  AppendArrayHeader(&out_, 2);
  AppendInteger(&out_, 1);
  AppendNullBulk(&out_);
  AppendArrayHeader(&out_, 0);
  AppendNullArray(&out_);
  EXPECT_EQ(out_, "*2\r\n:1\r\n$-1\r\n*0\r\n*-1\r\n");
}

TEST_F(RespWriterTest, AppendingKeepsWhatWasThere) {
  out_ = "+OK\r\n";
  AppendInteger(&out_, 7);
  EXPECT_EQ(out_, "+OK\r\n:7\r\n");
}

TEST_F(RespWriterTest, BulkArrayIsARequestTheParserReadsBack) {
  AppendBulkArray(&out_, {"SET", "k"});
  std::vector<std::string> args = {"GET", "\0\r\n"s};
  AppendBulkArray(&out_, args);
  EXPECT_EQ(
      out_,
      "*2\r\n$3\r\nSET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$3\r\n\0\r\n\r\n"s);

  RespParser parser;
  size_t consumed = 0;
  Command command;
  ASSERT_EQ(parser.Parse(out_, &consumed, &command), ParseResult::kCommand);
  EXPECT_EQ(command, (Command{"SET", "k"}));
  ASSERT_EQ(parser.Parse(std::string_view(out_).substr(consumed), &consumed,
                         &command),
            ParseResult::kCommand);
  EXPECT_EQ(command, args);
}

}  // namespace
}  // namespace ember::protocol
