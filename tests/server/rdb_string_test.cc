// DUMP payloads of strings: the CRC-64 against its published check value,
// each RDB string encoding written and read back, and every way a payload
// is refused (the byte-for-byte comparison with a real redis-server is
// tests/integration/test_redis_compat.py, DumpRestore).
#include "server/rdb_string.h"

#include <gtest/gtest.h>

#include <string>

#include "server/crc64.h"

namespace ember::server {
namespace {

using namespace std::string_literals;

// The object part of a payload: without the 10-byte trailer.
std::string Object(std::string_view value) {
  const std::string p = DumpString(value);
  return p.substr(0, p.size() - 10);
}

std::string RoundTrip(std::string_view value) {
  std::string out;
  EXPECT_EQ(LoadDump(DumpString(value), &out), DumpError::kNone) << value;
  return out;
}

TEST(Crc64Test, MatchesRedisCheckValue) {
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
  EXPECT_EQ(Crc64(0, ""), 0u);
  // Continuing a CRC equals one pass over the whole.
  EXPECT_EQ(Crc64(Crc64(0, "1234"), "56789"), Crc64(0, "123456789"));
}

TEST(RdbStringTest, IntegersThatFit32BitsAreEncodedAsIntegers) {
  EXPECT_EQ(Object("5"), "\x00\xc0\x05"s);
  EXPECT_EQ(Object("-1"), "\x00\xc0\xff"s);
  EXPECT_EQ(Object("300"), "\x00\xc1\x2c\x01"s);
  EXPECT_EQ(Object("70000"), "\x00\xc2\x70\x11\x01\x00"s);
  EXPECT_EQ(Object("-2147483648"), "\x00\xc2\x00\x00\x00\x80"s);
  // Not integers by Redis's rules, or too wide: raw strings.
  EXPECT_EQ(Object("2147483648"), "\x00\x0a"s + "2147483648");
  EXPECT_EQ(Object("007"), "\x00\x03"s + "007");
  EXPECT_EQ(Object("+1"), "\x00\x02"s + "+1");
  for (const char* v : {"0", "127", "-128", "128", "32767", "-32769",
                        "2147483647", "-2147483648", "2147483648"}) {
    EXPECT_EQ(RoundTrip(v), v);
  }
}

// Bytes LZF cannot shorten (a linear congruential generator's top bits).
std::string Noise(size_t n) {
  std::string out;
  uint64_t x = 88172645463325252ULL;
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out += static_cast<char>(x >> 56);
  }
  return out;
}

TEST(RdbStringTest, LengthsUseSixFourteenAndThirtyTwoBits) {
  EXPECT_EQ(Object("hello"), "\x00\x05hello"s);
  const std::string mid = Noise(300), big = Noise(70000);
  EXPECT_EQ(Object(mid).substr(0, 3), "\x00\x41\x2c"s);  // 0x12c, 14 bits
  EXPECT_EQ(Object(big).substr(0, 6), "\x00\x80\x00\x01\x11\x70"s);
  EXPECT_EQ(RoundTrip(mid), mid);
  EXPECT_EQ(RoundTrip(big), big);
  EXPECT_EQ(RoundTrip(""), "");
  EXPECT_EQ(RoundTrip("\0\xff\r\n"s), "\0\xff\r\n"s);
}

TEST(RdbStringTest, LongCompressibleStringsAreLzf) {
  const std::string v(1000, 'a');
  const std::string o = Object(v);
  EXPECT_EQ(static_cast<unsigned char>(o[1]), 0xc3);
  EXPECT_LT(o.size(), 100u);
  EXPECT_EQ(RoundTrip(v), v);
  // 20 bytes or fewer are never compressed.
  EXPECT_EQ(Object(std::string(20, 'a')), "\x00\x14"s + std::string(20, 'a'));
}

TEST(RdbStringTest, RefusesBadTrailersAndObjects) {
  std::string out;
  EXPECT_EQ(LoadDump("short", &out), DumpError::kChecksum);
  std::string p = DumpString("hello");
  p[2] ^= 1;  // the CRC no longer matches
  EXPECT_EQ(LoadDump(p, &out), DumpError::kChecksum);
  // A newer RDB version, even with a right CRC.
  std::string newer = Object("hello") + "\x0b\x00"s;
  uint64_t crc = Crc64(0, newer);
  for (int i = 0; i < 8; ++i) newer += static_cast<char>(crc >> 8 * i);
  EXPECT_EQ(LoadDump(newer, &out), DumpError::kChecksum);
  // A list (type 1), a string longer than the payload, an unknown special
  // encoding, nothing: each with a right trailer.
  for (const std::string& object :
       {"\x01\x01\x01x"s, "\x00\x20hel"s, "\x00\xc4"s, ""s}) {
    std::string q = object + "\x0a\x00"s;
    crc = Crc64(0, q);
    for (int i = 0; i < 8; ++i) q += static_cast<char>(crc >> 8 * i);
    EXPECT_EQ(LoadDump(q, &out), DumpError::kFormat) << object;
  }
}

TEST(RdbStringTest, AStringRunningIntoTheTrailerTakesItsBytesAsInRedis) {
  std::string q = "\x00\x05hel\x0a\x00"s;
  const uint64_t crc = Crc64(0, q);
  for (int i = 0; i < 8; ++i) q += static_cast<char>(crc >> 8 * i);
  std::string out;
  ASSERT_EQ(LoadDump(q, &out), DumpError::kNone);
  EXPECT_EQ(out, "hel\x0a\x00"s);
}

}  // namespace
}  // namespace ember::server
