// server/commands_bits.cc: SETBIT GETBIT BITCOUNT BITPOS BITOP, with Redis's
// semantics and reply texts. Bit 0 is the most significant bit of byte 0.
#include <bit>
#include <cstdint>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"

namespace ember::server {
namespace pr = ember::protocol;

bool ParseBitOffset(std::string_view arg, int field_bits, uint64_t max_bytes,
                    uint64_t* offset) {
  const bool fields = arg.size() > 1 && arg[0] == '#' && field_bits > 0;
  int64_t v = 0;
  if (!ParseInt64(arg.substr(fields ? 1 : 0), &v)) return false;
  // Wraps as Redis's long long multiplication does on x86-64.
  if (fields)
    v = static_cast<int64_t>(static_cast<uint64_t>(v) *
                             static_cast<uint64_t>(field_bits));
  if (v < 0 || (static_cast<uint64_t>(v) >> 3) >= max_bytes) return false;
  *offset = static_cast<uint64_t>(v);
  return true;
}

static constexpr std::string_view kBadBitOffset =
    "ERR bit offset is not an integer or out of range";

void CmdSetBit(const Args& a, CommandContext& ctx, std::string* reply) {
  uint64_t offset = 0;
  if (!ParseBitOffset(a[2], 0, ctx.info->config().proto_max_bulk_len, &offset))
    return pr::AppendError(reply, kBadBitOffset);
  int64_t on = 0;
  if (!ParseInt64(a[3], &on) || (on & ~int64_t{1}) != 0)
    return pr::AppendError(reply, "ERR bit is not an integer or out of range");
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  const size_t byte = static_cast<size_t>(offset >> 3);
  const int shift = 7 - static_cast<int>(offset & 7);
  const bool grow = v.value.size() < byte + 1;
  if (grow) v.value.resize(byte + 1, '\0');
  unsigned char c = static_cast<unsigned char>(v.value[byte]);
  const int old = (c >> shift) & 1;
  c = static_cast<unsigned char>((c & ~(1u << shift)) | (on << shift));
  if (!v.found || grow || old != on) {
    v.value[byte] = static_cast<char>(c);
    if (ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
    ctx.keys->Store(a[1], v.value, v.expiry_ms);
  }
  pr::AppendInteger(reply, old);
}

void CmdGetBit(const Args& a, CommandContext& ctx, std::string* reply) {
  uint64_t offset = 0;
  if (!ParseBitOffset(a[2], 0, ctx.info->config().proto_max_bulk_len, &offset))
    return pr::AppendError(reply, kBadBitOffset);
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  const uint64_t byte = offset >> 3;
  int bit = 0;
  if (byte < v.value.size()) {
    bit = (static_cast<unsigned char>(v.value[byte]) >> (7 - (offset & 7))) & 1;
  }
  pr::AppendInteger(reply, bit);
}

namespace {

// A BITCOUNT or BITPOS range turned into bytes [start, end] (inclusive),
// with the bits outside a BIT range masked off at both edges.
struct ByteRange {
  int64_t start = 0, end = -1;
  unsigned char first_mask = 0xff, last_mask = 0xff;  // bits inside
};

// Redis's conversion of start/end (bytes, or bits with `bits`) over a
// string of `len` bytes; an empty range has start > end.
ByteRange ToBytes(int64_t start, int64_t end, bool bits, int64_t len) {
  const int64_t total = bits ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  ByteRange r;
  if (bits && start <= end) {
    r.first_mask = static_cast<unsigned char>(0xff >> (start & 7));
    r.last_mask = static_cast<unsigned char>(0xff << (7 - (end & 7)));
    start >>= 3;
    end >>= 3;
  }
  r.start = start;
  r.end = end;
  return r;
}

// The byte at `i` of the range with the bits outside it cleared.
unsigned char Masked(std::string_view s, const ByteRange& r, int64_t i) {
  unsigned char c = static_cast<unsigned char>(s[static_cast<size_t>(i)]);
  if (i == r.start) c &= r.first_mask;
  if (i == r.end) c &= r.last_mask;
  return c;
}

// Parses the optional unit of BITCOUNT and BITPOS; false: not BYTE or BIT.
bool ParseUnit(const std::string& arg, bool* bits) {
  if (ArgIs(arg, "bit")) return *bits = true;
  if (ArgIs(arg, "byte")) return !(*bits = false);
  return false;
}

}  // namespace

// BITCOUNT key [start end [BYTE|BIT]]: a missing key is 0 before any
// argument is looked at, as in Redis.
void CmdBitCount(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendInteger(reply, 0);
  const int64_t len = static_cast<int64_t>(v.value.size());
  ByteRange r;
  if (a.size() == 4 || a.size() == 5) {
    int64_t start = 0, end = 0;
    if (!ParseInt64(a[2], &start) || !ParseInt64(a[3], &end))
      return pr::AppendError(reply, kNotInteger);
    if (start < 0 && end < 0 && start > end) return pr::AppendInteger(reply, 0);
    bool bits = false;
    if (a.size() == 5 && !ParseUnit(a[4], &bits))
      return pr::AppendError(reply, kSyntaxError);
    r = ToBytes(start, end, bits, len);
  } else if (a.size() == 2) {
    r.start = 0;
    r.end = len - 1;
  } else {
    return pr::AppendError(reply, kSyntaxError);
  }
  int64_t count = 0;
  for (int64_t i = r.start; i <= r.end; ++i)
    count += std::popcount(Masked(v.value, r, i));
  pr::AppendInteger(reply, count);
}

// BITPOS key bit [start [end [BYTE|BIT]]]: the first bit equal to `bit` in
// the range. Not found: -1, except for a 0 searched with no end given,
// where the string counts as followed by zeros (the bit after the range).
void CmdBitPos(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t bit = 0;
  if (!ParseInt64(a[2], &bit)) return pr::AppendError(reply, kNotInteger);
  if (bit != 0 && bit != 1)
    return pr::AppendError(reply, "ERR The bit argument must be 1 or 0.");
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendInteger(reply, bit ? -1 : 0);
  const int64_t len = static_cast<int64_t>(v.value.size());
  ByteRange r;
  bool end_given = false;
  if (a.size() >= 4 && a.size() <= 6) {
    int64_t start = 0, end = 0;
    if (!ParseInt64(a[3], &start)) return pr::AppendError(reply, kNotInteger);
    bool bits = false;
    if (a.size() == 6 && !ParseUnit(a[5], &bits))
      return pr::AppendError(reply, kSyntaxError);
    if (a.size() >= 5) {
      if (!ParseInt64(a[4], &end)) return pr::AppendError(reply, kNotInteger);
      end_given = true;
    } else {
      end = bits ? len * 8 + 7 : len - 1;
    }
    r = ToBytes(start, end, bits, len);
  } else if (a.size() == 3) {
    r.start = 0;
    r.end = len - 1;
  } else {
    return pr::AppendError(reply, kSyntaxError);
  }
  if (r.start > r.end) return pr::AppendInteger(reply, -1);
  for (int64_t i = r.start; i <= r.end; ++i) {
    unsigned char c = static_cast<unsigned char>(v.value[i]);
    unsigned char inside = 0xff;
    if (i == r.start) inside &= r.first_mask;
    if (i == r.end) inside &= r.last_mask;
    const unsigned char hits = (bit ? c : ~c) & inside;
    if (hits != 0) {
      return pr::AppendInteger(reply, i * 8 + std::countl_zero(hits));
    }
  }
  if (bit == 1 || end_given) return pr::AppendInteger(reply, -1);
  pr::AppendInteger(reply, (r.end + 1) * 8);
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]: missing keys are empty
// (zero-padded to the longest); an empty result deletes destkey. The
// result has no TTL. Replies the result's length.
void CmdBitOp(const Args& a, CommandContext& ctx, std::string* reply) {
  enum Op { kAnd, kOr, kXor, kNot } op;
  if (ArgIs(a[1], "and")) {
    op = kAnd;
  } else if (ArgIs(a[1], "or")) {
    op = kOr;
  } else if (ArgIs(a[1], "xor")) {
    op = kXor;
  } else if (ArgIs(a[1], "not")) {
    op = kNot;
  } else {
    return pr::AppendError(reply, kSyntaxError);
  }
  if (op == kNot && a.size() != 4) {
    return pr::AppendError(
        reply, "ERR BITOP NOT must be called with a single source key.");
  }
  std::vector<std::string> src(a.size() - 3);
  size_t maxlen = 0;
  for (size_t j = 0; j < src.size(); ++j) {
    Loaded v;
    if (!LoadOrReply(ctx, a[j + 3], &v, reply)) return;
    src[j] = std::move(v.value);
    maxlen = std::max(maxlen, src[j].size());
  }
  std::string out(maxlen, '\0');
  for (size_t i = 0; i < maxlen; ++i) {
    auto byte = [&](size_t j) -> unsigned char {
      return i < src[j].size() ? static_cast<unsigned char>(src[j][i]) : 0;
    };
    unsigned char r = byte(0);
    if (op == kNot) r = static_cast<unsigned char>(~r);
    for (size_t j = 1; j < src.size(); ++j) {
      if (op == kAnd) r &= byte(j);
      if (op == kOr) r |= byte(j);
      if (op == kXor) r ^= byte(j);
    }
    out[i] = static_cast<char>(r);
  }
  if (maxlen == 0) {
    ctx.keys->Remove(a[2]);
  } else {
    if (ReplyIfCannotStore(ctx, a[2], out.size(), reply)) return;
    ctx.keys->Store(a[2], out, 0);
  }
  pr::AppendInteger(reply, static_cast<int64_t>(maxlen));
}

}  // namespace ember::server
