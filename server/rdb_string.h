// server/rdb_string.h: Redis's DUMP payload of a string, so DUMP and
// RESTORE move strings between Ember and Redis 7 both ways. A payload is an
// RDB object (type 0, string: the value as an integer when it is one that
// fits 32 bits, LZF-compressed when longer than 20 bytes and LZF shortens
// it, else raw), then the RDB version (2 bytes, little endian) and a CRC-64
// (crc64.h, 8 bytes little endian) of everything before it.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ember::server {

// The RDB version Ember writes, and the newest it reads: Redis 7.0's.
inline constexpr uint16_t kRdbVersion = 10;

// The DUMP payload of string `value`, as Redis 7 writes it.
std::string DumpString(std::string_view value);

enum class DumpError {
  kNone,
  kChecksum,  // too short, a newer RDB version, or a wrong CRC
  kFormat,    // not a string object (Ember has no other type), or malformed
};
// The string in `payload`: kNone and *value, or what is wrong with it.
// As Redis reads it: bytes after the object are ignored, and a string whose
// length runs into the 10-byte trailer takes the trailer's bytes.
DumpError LoadDump(std::string_view payload, std::string* value);

}  // namespace ember::server
