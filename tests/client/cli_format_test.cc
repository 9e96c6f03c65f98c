// ember-cli prints replies byte for byte as redis-cli 7 does, in both its
// terminal and its raw (piped) form.
#include "client/cli_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/inline_args.h"
#include "tests/str_cat.h"

namespace ember::client {
namespace {

using namespace std::string_literals;
using protocol::Reply;

std::string Human(const Reply& r) {
  return FormatReply(r, ReplyFormat::kHuman);
}
std::string Raw(const Reply& r) { return FormatReply(r, ReplyFormat::kRaw); }

TEST(CliFormatTest, ScalarsForHumans) {
  EXPECT_EQ(Human(Reply::Status("OK")), "OK\n");
  EXPECT_EQ(Human(Reply::Error("ERR no")), "(error) ERR no\n");
  EXPECT_EQ(Human(Reply::Integer(-3)), "(integer) -3\n");
  EXPECT_EQ(Human(Reply::Bulk("a\"b\\c\nd")), "\"a\\\"b\\\\c\\nd\"\n");
  EXPECT_EQ(Human(Reply::Bulk("")), "\"\"\n");
  EXPECT_EQ(Human(Reply::Null()), "(nil)\n");
  EXPECT_EQ(Human(Reply::Array({})), "(empty array)\n");
}

TEST(CliFormatTest, NestedArraysForHumansAlignAndIndent) {
  std::vector<Reply> keys;
  for (int i = 1; i <= 10; ++i)
    keys.push_back(Reply::Bulk(ember::testing::Cat("k", i)));
  Reply scan = Reply::Array({Reply::Bulk("0"), Reply::Array(keys)});
  EXPECT_EQ(Human(scan),
            "1) \"0\"\n"
            "2)  1) \"k1\"\n"
            "    2) \"k2\"\n"
            "    3) \"k3\"\n"
            "    4) \"k4\"\n"
            "    5) \"k5\"\n"
            "    6) \"k6\"\n"
            "    7) \"k7\"\n"
            "    8) \"k8\"\n"
            "    9) \"k9\"\n"
            "   10) \"k10\"\n");
  EXPECT_EQ(Human(Reply::Array({Reply::Null(), Reply::Integer(1)})),
            "1) (nil)\n2) (integer) 1\n");
}

TEST(CliFormatTest, RawPrintsBytesOnePerLine) {
  EXPECT_EQ(Raw(Reply::Status("OK")), "OK\n");
  EXPECT_EQ(Raw(Reply::Error("ERR no")), "ERR no\n");
  EXPECT_EQ(Raw(Reply::Integer(7)), "7\n");
  EXPECT_EQ(Raw(Reply::Bulk("a\0b\n"s)), "a\0b\n\n"s);
  EXPECT_EQ(Raw(Reply::Null()), "\n");
  EXPECT_EQ(Raw(Reply::Array({})), "\n");
  EXPECT_EQ(Raw(Reply::Array({Reply::Bulk("x"), Reply::Null(),
                              Reply::Array({Reply::Integer(1)})})),
            "x\n\n1\n");
}

TEST(CliFormatTest, QuotedBytesSplitBackToTheSameBytes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::vector<std::string> args;
  ASSERT_TRUE(protocol::SplitInlineArgs("SET " + QuoteBytes(all), &args));
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[1], all);
}

}  // namespace
}  // namespace ember::client
