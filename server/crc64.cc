// server/crc64.cc: table-driven CRC-64/Jones, one byte per step. Debian 12
// packages no CRC-64 library with this polynomial, so it is built here.
#include "server/crc64.h"

#include <array>

namespace ember::server {
namespace {

// 0xad93d23594c935a9 with its bits reversed: the reflected form.
constexpr uint64_t kReflectedPoly = 0x95ac9329ac4bc9b5;

constexpr std::array<uint64_t, 256> MakeTable() {
  std::array<uint64_t, 256> t{};
  for (uint64_t i = 0; i < 256; ++i) {
    uint64_t c = i;
    for (int bit = 0; bit < 8; ++bit)
      c = (c & 1) ? (c >> 1) ^ kReflectedPoly : c >> 1;
    t[i] = c;
  }
  return t;
}

constexpr std::array<uint64_t, 256> kTable = MakeTable();

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view bytes) {
  for (unsigned char b : bytes) crc = kTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace ember::server
