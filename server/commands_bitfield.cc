// server/commands_bitfield.cc: BITFIELD and BITFIELD_RO (GET SET INCRBY,
// OVERFLOW WRAP|SAT|FAIL), ported from Redis 7's bitfieldGeneric: the same
// argument checks in the same order, the same overflow arithmetic.
#include <cstdint>
#include <limits>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"

namespace ember::server {
namespace pr = ember::protocol;
namespace {

enum class Overflow { kWrap, kSat, kFail };

struct FieldOp {
  enum Code { kGet, kSet, kIncrBy } code = kGet;
  uint64_t offset = 0;
  int64_t value = 0;  // SET's value or INCRBY's increment
  Overflow overflow = Overflow::kWrap;
  int bits = 0;
  bool sign = false;
};

// "i1".."i64" or "u1".."u63".
bool ParseFieldType(std::string_view arg, bool* sign, int* bits) {
  if (arg.empty() || (arg[0] != 'i' && arg[0] != 'u')) return false;
  *sign = arg[0] == 'i';
  int64_t n = 0;
  if (!ParseInt64(CStr(arg.substr(1)), &n) || n < 1 || n > (*sign ? 64 : 63))
    return false;
  *bits = static_cast<int>(n);
  return true;
}

uint64_t GetUnsigned(const std::string& s, uint64_t offset, int bits) {
  uint64_t v = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    const size_t byte = static_cast<size_t>(offset >> 3);
    const unsigned char c =
        byte < s.size() ? static_cast<unsigned char>(s[byte]) : 0;
    v = (v << 1) | ((c >> (7 - (offset & 7))) & 1);
  }
  return v;
}

int64_t GetSigned(const std::string& s, uint64_t offset, int bits) {
  uint64_t v = GetUnsigned(s, offset, bits);
  if (bits < 64 && (v & (uint64_t{1} << (bits - 1)))) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

// REQUIRES: s holds the field (the string was grown first).
void SetField(std::string* s, uint64_t offset, int bits, uint64_t v) {
  for (int j = 0; j < bits; ++j, ++offset) {
    const uint64_t bit = (v >> (bits - 1 - j)) & 1;
    const size_t byte = static_cast<size_t>(offset >> 3);
    const int shift = 7 - static_cast<int>(offset & 7);
    unsigned char c = static_cast<unsigned char>((*s)[byte]);
    c = static_cast<unsigned char>((c & ~(1u << shift)) | (bit << shift));
    (*s)[byte] = static_cast<char>(c);
  }
}

// Redis's checkUnsignedBitfieldOverflow: true on overflow, with *limit the
// value WRAP or SAT gives.
bool UnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow ow,
                      uint64_t* limit) {
  const uint64_t max = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  const int64_t maxincr = static_cast<int64_t>(max - value);
  const int64_t minincr = static_cast<int64_t>(0 - value);
  auto wrap = [&] {
    *limit = (value + static_cast<uint64_t>(incr)) & ~(~uint64_t{0} << bits);
  };
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = max;
    return true;
  }
  if (incr < 0 && incr < minincr) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = 0;
    return true;
  }
  return false;
}

// Redis's checkSignedBitfieldOverflow.
bool SignedOverflow(int64_t value, int64_t incr, int bits, Overflow ow,
                    int64_t* limit) {
  const int64_t max = bits == 64 ? std::numeric_limits<int64_t>::max()
                                 : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  const int64_t maxincr =
      static_cast<int64_t>(static_cast<uint64_t>(max) - value);
  const int64_t minincr =
      static_cast<int64_t>(static_cast<uint64_t>(min) - value);
  auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t mask = ~uint64_t{0} << bits;
      c = (c & (uint64_t{1} << (bits - 1))) ? (c | mask) : (c & ~mask);
    }
    *limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) ||
      (value >= 0 && incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = max;
    return true;
  }
  if (value < min || (bits != 64 && incr < minincr) ||
      (value < 0 && incr < 0 && incr < minincr)) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = min;
    return true;
  }
  return false;
}

// Runs one SET or INCRBY on *s: appends its reply (the old value for SET,
// the new one for INCRBY, nil when OVERFLOW FAIL stops it).
void RunWrite(const FieldOp& op, std::string* s, std::string* reply) {
  const bool incr = op.code == FieldOp::kIncrBy;
  if (op.sign) {
    const int64_t old = GetSigned(*s, op.offset, op.bits);
    int64_t limit = 0;
    int64_t next = incr ? static_cast<int64_t>(static_cast<uint64_t>(old) +
                                               static_cast<uint64_t>(op.value))
                        : op.value;
    const bool over =
        incr ? SignedOverflow(old, op.value, op.bits, op.overflow, &limit)
             : SignedOverflow(op.value, 0, op.bits, op.overflow, &limit);
    if (over) next = limit;
    if (over && op.overflow == Overflow::kFail)
      return pr::AppendNullBulk(reply);
    pr::AppendInteger(reply, incr ? next : old);
    SetField(s, op.offset, op.bits, static_cast<uint64_t>(next));
  } else {
    const uint64_t old = GetUnsigned(*s, op.offset, op.bits);
    uint64_t limit = 0;
    const uint64_t value = static_cast<uint64_t>(op.value);
    uint64_t next = incr ? old + value : value;
    const bool over =
        incr ? UnsignedOverflow(old, op.value, op.bits, op.overflow, &limit)
             : UnsignedOverflow(value, 0, op.bits, op.overflow, &limit);
    if (over) next = limit;
    if (over && op.overflow == Overflow::kFail)
      return pr::AppendNullBulk(reply);
    pr::AppendInteger(reply, static_cast<int64_t>(incr ? next : old));
    SetField(s, op.offset, op.bits, next);
  }
}

void BitFieldGeneric(const Args& a, bool read_only, CommandContext& ctx,
                     std::string* reply) {
  std::vector<FieldOp> ops;
  Overflow overflow = Overflow::kWrap;
  bool writes = false;
  uint64_t highest = 0;  // the last bit a write touches
  const uint64_t max_bytes = ctx.info->config().proto_max_bulk_len;
  for (size_t j = 2; j < a.size(); ++j) {
    const size_t more = a.size() - j - 1;
    FieldOp op;
    if (ArgIs(a[j], "get") && more >= 2) {
      op.code = FieldOp::kGet;
    } else if (ArgIs(a[j], "set") && more >= 3) {
      op.code = FieldOp::kSet;
    } else if (ArgIs(a[j], "incrby") && more >= 3) {
      op.code = FieldOp::kIncrBy;
    } else if (ArgIs(a[j], "overflow") && more >= 1) {
      const std::string& kind = a[++j];
      if (ArgIs(kind, "wrap")) {
        overflow = Overflow::kWrap;
      } else if (ArgIs(kind, "sat")) {
        overflow = Overflow::kSat;
      } else if (ArgIs(kind, "fail")) {
        overflow = Overflow::kFail;
      } else {
        return pr::AppendError(reply, "ERR Invalid OVERFLOW type specified");
      }
      continue;
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
    if (!ParseFieldType(a[j + 1], &op.sign, &op.bits)) {
      return pr::AppendError(
          reply,
          "ERR Invalid bitfield type. Use something like i16 u8. Note that "
          "u64 is not supported but i64 is.");
    }
    if (!ParseBitOffset(a[j + 2], op.bits, max_bytes, &op.offset)) {
      return pr::AppendError(
          reply, "ERR bit offset is not an integer or out of range");
    }
    if (op.code != FieldOp::kGet) {
      writes = true;
      highest = std::max(highest, op.offset + op.bits - 1);
      if (!ParseInt64(a[j + 3], &op.value))
        return pr::AppendError(reply, kNotInteger);
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.code == FieldOp::kGet ? 2 : 3;
  }
  if (writes && read_only) {
    return pr::AppendError(reply,
                           "ERR BITFIELD_RO only supports the GET subcommand");
  }
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  const std::string before = writes ? v.value : std::string();
  // A write makes room up to its last bit first, even if OVERFLOW FAIL
  // then stops it (Redis's lookupStringForBitCommand).
  if (writes && v.value.size() < (highest >> 3) + 1)
    v.value.resize(static_cast<size_t>(highest >> 3) + 1, '\0');
  std::string body;
  for (const FieldOp& op : ops) {
    if (op.code != FieldOp::kGet) {
      RunWrite(op, &v.value, &body);
    } else if (op.sign) {
      pr::AppendInteger(&body, GetSigned(v.value, op.offset, op.bits));
    } else {
      pr::AppendInteger(&body, static_cast<int64_t>(
                                   GetUnsigned(v.value, op.offset, op.bits)));
    }
  }
  if (writes && (!v.found || v.value != before)) {
    if (ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
    ctx.keys->Store(a[1], v.value, v.expiry_ms);
  }
  pr::AppendArrayHeader(reply, ops.size());
  reply->append(body);
}

}  // namespace

void CmdBitField(const Args& a, CommandContext& ctx, std::string* reply) {
  BitFieldGeneric(a, /*read_only=*/false, ctx, reply);
}

void CmdBitFieldRo(const Args& a, CommandContext& ctx, std::string* reply) {
  BitFieldGeneric(a, /*read_only=*/true, ctx, reply);
}

}  // namespace ember::server
