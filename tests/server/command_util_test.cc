// Redis-compatible integer and float parsing, float formatting, option
// matching and glob matching (the comparison with a real redis-server is
// tests/integration/test_redis_compat.py).
#include "server/command_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "server/glob_pattern.h"

namespace ember::server {
namespace {

TEST(ParseInt64Test, AcceptsExactlyRedisIntegers) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseInt64("-42", &v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* bad :
       {"", "-", "+1", " 1", "1 ", "01", "-0", "1.5", "9223372036854775808",
        "-9223372036854775809", "abc", "12a"}) {
    EXPECT_FALSE(ParseInt64(bad, &v)) << bad;
  }
}

TEST(GlobMatchTest, MatchesLikeRedis) {
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("user:*", "user:42"));
  EXPECT_FALSE(GlobMatch("user:*", "session:1"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_TRUE(GlobMatch("h[a-c]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("*:*:x", "a:b:x"));
}

TEST(GlobPatternTest, ReadsOddPatternsAsRedisDoes) {
  EXPECT_TRUE(GlobMatch("[a", "a"));  // an unclosed class runs to the end
  EXPECT_FALSE(GlobMatch("[a", "[a"));
  EXPECT_TRUE(GlobMatch("[^", "x"));  // "not nothing": any one byte
  EXPECT_FALSE(GlobMatch("[", "["));
  EXPECT_TRUE(GlobMatch("[a-]", "^"));  // the range ']'..'a'
  EXPECT_TRUE(GlobMatch("[a-]", "]"));
  EXPECT_FALSE(GlobMatch("[a-]", "-"));
  EXPECT_TRUE(GlobMatch("[z-a]", "m"));  // a reversed range
  EXPECT_TRUE(GlobMatch("a\\", "a\\"));  // a trailing backslash is itself
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));
  // Ranges compare signed chars: "[a-\xff]" is -1..'a', so '0' is in it
  // and 0x80 is not.
  EXPECT_TRUE(GlobMatch("[a-\xff]", "0"));
  EXPECT_FALSE(GlobMatch("[a-\xff]", "\x80"));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("*", ""));  // KEYS * lists "" only by match_all()
  EXPECT_TRUE(GlobPattern("*").match_all());
  EXPECT_FALSE(GlobPattern("**").match_all());
  EXPECT_TRUE(
      GlobMatch(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}

TEST(GlobPatternTest, ManyStarsCostAtMostPatternTimesText) {
  std::string pattern;
  for (int i = 0; i < 20000; ++i) pattern += "*a";
  pattern += "*b";
  const GlobPattern glob(pattern);
  const std::string text(30000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(glob.Match(text));
  EXPECT_TRUE(GlobPattern("[a" + std::string(100000, 'b')).Match("b"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ArgIsTest, IgnoresCaseAndWhatFollowsANul) {
  EXPECT_TRUE(ArgIs("NX", "nx"));
  EXPECT_TRUE(ArgIs(std::string_view("nx\0junk", 7), "nx"));
  EXPECT_FALSE(ArgIs("nxx", "nx"));
  EXPECT_FALSE(ArgIs("", "nx"));
}

TEST(ParseLongDoubleTest, AcceptsWhatStrtoldTakesWhole) {
  long double v = 0;
  EXPECT_TRUE(ParseLongDouble("5.0e3", &v));
  EXPECT_EQ(v, 5000);
  EXPECT_TRUE(ParseLongDouble("0x10", &v));
  EXPECT_EQ(v, 16);
  EXPECT_TRUE(ParseLongDouble("inf", &v));
  EXPECT_TRUE(ParseLongDouble("1e4931", &v));  // fine in 80 bits
  for (const char* bad :
       {"", " 1", "1 ", "nan", "abc", "1e5000", "1e-5000", "1.5e"}) {
    EXPECT_FALSE(ParseLongDouble(bad, &v)) << bad;
  }
  EXPECT_FALSE(ParseLongDouble(std::string_view("1\0", 2), &v));
  EXPECT_TRUE(ParseLongDouble("1." + std::string(5117, '0'), &v));
  EXPECT_FALSE(ParseLongDouble("1." + std::string(5118, '0'), &v));
}

TEST(FormatLongDoubleTest, PrintsAsRedisHumanFormat) {
  EXPECT_EQ(FormatLongDouble(10.5L + 0.1L), "10.6");
  EXPECT_EQ(FormatLongDouble(3.0L), "3");
  EXPECT_EQ(FormatLongDouble(-0.0L), "0");
  EXPECT_EQ(FormatLongDouble(1e-20L), "0");
  EXPECT_EQ(FormatLongDouble(0.5L), "0.5");
  EXPECT_EQ(FormatLongDouble(-2.25L), "-2.25");
  EXPECT_EQ(FormatLongDouble(1e20L), "100000000000000000000");
  EXPECT_EQ(FormatLongDouble(-1.0L / 0.0L), "-inf");
}

}  // namespace
}  // namespace ember::server
