// server/crc64.h: the CRC-64 Redis puts at the end of a DUMP payload and an
// RDB file: the "Jones" polynomial 0xad93d23594c935a9, reflected, initial
// value 0, no final xor. crc64("123456789") is 0xe9c6d914c4b8d9ca.
// Thread safety: pure function (its table is built once, thread-safely).
#pragma once

#include <cstdint>
#include <string_view>

namespace ember::server {

// The CRC of `bytes` continued from `crc` (0 to start).
uint64_t Crc64(uint64_t crc, std::string_view bytes);

}  // namespace ember::server
