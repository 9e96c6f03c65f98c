// server/rdb_string.cc: the RDB string encoding of DUMP and RESTORE (lengths,
// integers, LZF through Debian's liblzf) and its trailer.
#include "server/rdb_string.h"

#include <lzf.h>

#include <limits>

#include "server/command_util.h"
#include "server/crc64.h"

namespace ember::server {
namespace {

constexpr unsigned char kTypeString = 0;
// The top two bits of a length's first byte: 6-bit, 14-bit, 32/64-bit
// length, or a special encoding (the low 6 bits say which).
constexpr unsigned char kLen6 = 0x00, kLen14 = 0x40, kLen32 = 0x80,
                        kLen64 = 0x81, kSpecial = 0xc0;
constexpr unsigned char kInt8 = 0, kInt16 = 1, kInt32 = 2, kLzf = 3;

void PutLength(std::string* out, uint64_t n) {
  if (n < (1u << 6)) {
    out->push_back(static_cast<char>(kLen6 | n));
  } else if (n < (1u << 14)) {
    out->push_back(static_cast<char>(kLen14 | (n >> 8)));
    out->push_back(static_cast<char>(n & 0xff));
  } else {
    const bool wide = n > std::numeric_limits<uint32_t>::max();
    out->push_back(static_cast<char>(wide ? kLen64 : kLen32));
    for (int shift = wide ? 56 : 24; shift >= 0; shift -= 8)  // big endian
      out->push_back(static_cast<char>((n >> shift) & 0xff));
  }
}

void PutLittleEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> 8 * i));
}

uint64_t GetLittleEndian(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= uint64_t{static_cast<unsigned char>(in[at + i])} << 8 * i;
  return v;
}

// Reads a length at `*at`; `*special` set (and the low 6 bits returned)
// for a special encoding. False when the input ends first.
bool GetLength(std::string_view in, size_t* at, uint64_t* n, bool* special) {
  if (*at >= in.size()) return false;
  const unsigned char b = static_cast<unsigned char>(in[(*at)++]);
  *special = false;
  switch (b & 0xc0) {
    case kLen6:
      *n = b & 0x3f;
      return true;
    case kLen14:
      if (*at >= in.size()) return false;
      *n = (uint64_t{b & 0x3fu} << 8) | static_cast<unsigned char>(in[(*at)++]);
      return true;
    case kSpecial:
      *special = true;
      *n = b & 0x3f;
      return true;
  }
  if (b != kLen32 && b != kLen64) return false;
  const int bytes = b == kLen32 ? 4 : 8;
  if (in.size() - *at < static_cast<size_t>(bytes)) return false;
  *n = 0;
  for (int i = 0; i < bytes; ++i)
    *n = (*n << 8) | static_cast<unsigned char>(in[(*at)++]);
  return true;
}

void PutString(std::string* out, std::string_view v) {
  int64_t n = 0;
  if (v.size() <= 11 && ParseInt64(v, &n) &&
      n >= std::numeric_limits<int32_t>::min() &&
      n <= std::numeric_limits<int32_t>::max()) {
    const int bytes = (n >= -128 && n <= 127)       ? 1
                      : (n >= -32768 && n <= 32767) ? 2
                                                    : 4;
    out->push_back(static_cast<char>(kSpecial | (bytes == 1   ? kInt8
                                                 : bytes == 2 ? kInt16
                                                              : kInt32)));
    PutLittleEndian(out, static_cast<uint64_t>(n), bytes);
    return;
  }
  if (v.size() > 20) {
    // Only when it saves more than 4 bytes, as Redis (lzf_compress returns
    // 0 when the output does not fit in size - 4).
    std::string packed(v.size() - 4, '\0');
    const unsigned got =
        lzf_compress(v.data(), static_cast<unsigned>(v.size()), packed.data(),
                     static_cast<unsigned>(packed.size()));
    if (got > 0 && v.size() <= std::numeric_limits<unsigned>::max()) {
      out->push_back(static_cast<char>(kSpecial | kLzf));
      PutLength(out, got);
      PutLength(out, v.size());
      out->append(packed.data(), got);
      return;
    }
  }
  PutLength(out, v.size());
  out->append(v);
}

bool GetString(std::string_view in, size_t* at, std::string* value) {
  uint64_t n = 0;
  bool special = false;
  if (!GetLength(in, at, &n, &special)) return false;
  if (!special) {
    if (in.size() - *at < n) return false;
    value->assign(in.substr(*at, n));
    *at += n;
    return true;
  }
  if (n == kInt8 || n == kInt16 || n == kInt32) {
    const int bytes = n == kInt8 ? 1 : n == kInt16 ? 2 : 4;
    if (in.size() - *at < static_cast<size_t>(bytes)) return false;
    uint64_t raw = GetLittleEndian(in, *at, bytes);
    *at += bytes;
    const int shift = 64 - 8 * bytes;  // sign-extend
    const int64_t v = static_cast<int64_t>(raw << shift) >> shift;
    *value = std::to_string(v);
    return true;
  }
  if (n != kLzf) return false;
  uint64_t packed = 0, size = 0;
  if (!GetLength(in, at, &packed, &special) || special ||
      !GetLength(in, at, &size, &special) || special ||
      in.size() - *at < packed || size > std::numeric_limits<unsigned>::max() ||
      size > (uint64_t{1} << 32)) {
    return false;
  }
  value->assign(size, '\0');
  const unsigned got =
      size == 0 ? 0
                : lzf_decompress(in.data() + *at, static_cast<unsigned>(packed),
                                 value->data(), static_cast<unsigned>(size));
  *at += packed;
  return got == size && size > 0;
}

}  // namespace

std::string DumpString(std::string_view value) {
  std::string out;
  out.push_back(static_cast<char>(kTypeString));
  PutString(&out, value);
  PutLittleEndian(&out, kRdbVersion, 2);
  PutLittleEndian(&out, Crc64(0, out), 8);
  return out;
}

DumpError LoadDump(std::string_view payload, std::string* value) {
  if (payload.size() < 10) return DumpError::kChecksum;
  const size_t body = payload.size() - 10;
  if (GetLittleEndian(payload, body, 2) > kRdbVersion)
    return DumpError::kChecksum;
  if (Crc64(0, payload.substr(0, body + 2)) !=
      GetLittleEndian(payload, body + 2, 8)) {
    return DumpError::kChecksum;
  }
  // As Redis, the object is read from the whole payload: a length that
  // runs into the trailer takes its bytes, and only the payload's end stops
  // it.
  size_t at = 1;
  if (body == 0 || payload[0] != static_cast<char>(kTypeString) ||
      !GetString(payload, &at, value)) {
    return DumpError::kFormat;
  }
  return DumpError::kNone;
}

}  // namespace ember::server
