// SplitInlineArgs splits a line as Redis's sdssplitargs does.
#include "protocol/inline_args.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ember::protocol {
namespace {

using namespace std::string_literals;

class InlineArgsTest : public ::testing::Test {
 protected:
  // The arguments of `line`; fails the test on unbalanced quotes.
  std::vector<std::string> Split(std::string_view line) {
    std::vector<std::string> args;
    EXPECT_TRUE(SplitInlineArgs(line, &args)) << line;
    return args;
  }
  bool IsUnbalanced(std::string_view line) {
    std::vector<std::string> args = {"stale"};
    bool ok = SplitInlineArgs(line, &args);
    EXPECT_TRUE(args.empty());
    return !ok;
  }
};

TEST_F(InlineArgsTest, SpacesAndTabsSeparateArguments) {
  EXPECT_EQ(Split("  SET\tkey  value \v"),
            (std::vector<std::string>{"SET", "key", "value"}));
}

TEST_F(InlineArgsTest, BlankLineHasNoArguments) {
  EXPECT_TRUE(Split("").empty());
  EXPECT_TRUE(Split(" \t \r").empty());
}

TEST_F(InlineArgsTest, DoubleQuotesDecodeHexAndBackslashEscapes) {
  EXPECT_EQ(Split(R"("a b" "\x41\x4a\x4G" "\n\r\t\b\a" "\"\\\q")"),
            (std::vector<std::string>{"a b", "AJx4G", "\n\r\t\b\a", "\"\\q"}));
}

TEST_F(InlineArgsTest, SingleQuotesAreLiteralButForEscapedQuote) {
  EXPECT_EQ(Split(R"('a b' 'it\'s' '\n' '')"),
            (std::vector<std::string>{"a b", "it's", "\\n", ""}));
}

TEST_F(InlineArgsTest, QuotesInsideAWordJoinIt) {
  EXPECT_EQ(Split("foo\"bar baz\" x"),
            (std::vector<std::string>{"foobar baz", "x"}));
}

TEST_F(InlineArgsTest, NulByteEndsTheLine) {
  EXPECT_EQ(Split("a b\0c d"s), (std::vector<std::string>{"a", "b"}));
}

TEST_F(InlineArgsTest, UnbalancedOrRunOnQuotesAreRejected) {
  EXPECT_TRUE(IsUnbalanced("\"abc"));
  EXPECT_TRUE(IsUnbalanced("'abc"));
  EXPECT_TRUE(IsUnbalanced("\"abc\\"));
  EXPECT_TRUE(IsUnbalanced("\"a\"b"));
  EXPECT_TRUE(IsUnbalanced("'a'b"));
  EXPECT_TRUE(IsUnbalanced(R"(set """test-key""" test-value)"));
}

}  // namespace
}  // namespace ember::protocol
