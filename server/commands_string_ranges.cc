// server/commands_string_ranges.cc: APPEND STRLEN SETRANGE GETRANGE SUBSTR
// LCS, with Redis's semantics and reply texts. Writes keep the key's TTL.
#include <cstdint>
#include <limits>
#include <memory>
#include <new>

#include "protocol/resp_writer.h"
#include "server/command_table.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/server_info.h"

namespace ember::server {
namespace pr = ember::protocol;

// Redis's checkStringLength: would a string of `bytes` exceed the limit?
static bool ReplyIfTooLong(CommandContext& ctx, uint64_t bytes,
                           std::string* reply) {
  if (bytes <= ctx.info->config().proto_max_bulk_len) return false;
  pr::AppendError(reply, kTooBig);
  return true;
}

void CmdAppend(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (ReplyIfTooLong(ctx, v.value.size() + a[2].size(), reply)) return;
  v.value += a[2];
  if (ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
  ctx.keys->Store(a[1], v.value, v.expiry_ms);
  pr::AppendInteger(reply, static_cast<int64_t>(v.value.size()));
}

void CmdStrLen(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  pr::AppendInteger(reply, static_cast<int64_t>(v.value.size()));
}

// SETRANGE key offset value: zero-pads up to `offset`; an empty value
// changes nothing (and creates no key).
void CmdSetRange(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t offset = 0;
  if (!ParseInt64(a[2], &offset)) return pr::AppendError(reply, kNotInteger);
  if (offset < 0) return pr::AppendError(reply, "ERR offset is out of range");
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  const std::string& part = a[3];
  if (part.empty()) {
    return pr::AppendInteger(reply, static_cast<int64_t>(v.value.size()));
  }
  const uint64_t end = static_cast<uint64_t>(offset) + part.size();
  if (ReplyIfTooLong(ctx, end, reply)) return;
  if (v.value.size() < end) v.value.resize(end, '\0');
  v.value.replace(static_cast<size_t>(offset), part.size(), part);
  if (ReplyIfCannotStore(ctx, a[1], v.value.size(), reply)) return;
  ctx.keys->Store(a[1], v.value, v.expiry_ms);
  pr::AppendInteger(reply, static_cast<int64_t>(v.value.size()));
}

// GETRANGE (and SUBSTR) key start end: inclusive, negative from the end;
// both integers are checked before the key is read.
void CmdGetRange(const Args& a, CommandContext& ctx, std::string* reply) {
  int64_t start = 0, end = 0;
  if (!ParseInt64(a[2], &start) || !ParseInt64(a[3], &end))
    return pr::AppendError(reply, kNotInteger);
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  const int64_t len = static_cast<int64_t>(v.value.size());
  if (start < 0 && end < 0 && start > end) return pr::AppendBulk(reply, "");
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return pr::AppendBulk(reply, "");
  pr::AppendBulk(reply, std::string_view(v.value).substr(
                            static_cast<size_t>(start),
                            static_cast<size_t>(end - start + 1)));
}

namespace {

struct LcsOptions {
  bool len = false, idx = false, with_match_len = false;
  int64_t min_match_len = 0;
};

// The LCS table and its walk back (Redis's lcsCommand): the common string,
// or with IDX the matching ranges, longest-last-first as Redis emits them.
void ReplyLcs(std::string_view x, std::string_view y, const LcsOptions& o,
              uint32_t* table, std::string* reply) {
  const size_t alen = x.size(), blen = y.size();
  auto at = [&](size_t i, size_t j) -> uint32_t& {
    return table[j + i * (blen + 1)];
  };
  for (size_t i = 0; i <= alen; ++i) {
    for (size_t j = 0; j <= blen; ++j) {
      if (i == 0 || j == 0) {
        at(i, j) = 0;
      } else if (x[i - 1] == y[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  const uint32_t total = at(alen, blen);
  if (o.len && !o.idx) return pr::AppendInteger(reply, total);
  std::string common(total, '\0');
  std::string ranges;
  size_t nranges = 0;
  // alen as the start means "no range open".
  size_t a_start = alen, a_end = 0, b_start = 0, b_end = 0;
  size_t i = alen, j = blen, k = total;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (x[i - 1] == y[j - 1]) {
      common[--k] = x[i - 1];
      if (a_start == alen) {
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) {
        --a_start;  // the range grows backwards
        --b_start;
      } else {
        emit = true;
      }
      if (a_start == 0 || b_start == 0) emit = true;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (a_start != alen) emit = true;
    }
    if (!emit) continue;
    const uint64_t match_len = a_end - a_start + 1;
    if (o.idx && (o.min_match_len == 0 ||
                  match_len >= static_cast<uint64_t>(o.min_match_len))) {
      pr::AppendArrayHeader(&ranges, o.with_match_len ? 3 : 2);
      pr::AppendArrayHeader(&ranges, 2);
      pr::AppendInteger(&ranges, static_cast<int64_t>(a_start));
      pr::AppendInteger(&ranges, static_cast<int64_t>(a_end));
      pr::AppendArrayHeader(&ranges, 2);
      pr::AppendInteger(&ranges, static_cast<int64_t>(b_start));
      pr::AppendInteger(&ranges, static_cast<int64_t>(b_end));
      if (o.with_match_len)
        pr::AppendInteger(&ranges, static_cast<int64_t>(match_len));
      ++nranges;
    }
    a_start = alen;
  }
  if (!o.idx) return pr::AppendBulk(reply, common);
  pr::AppendArrayHeader(reply, 4);
  pr::AppendBulk(reply, "matches");
  pr::AppendArrayHeader(reply, nranges);
  reply->append(ranges);
  pr::AppendBulk(reply, "len");
  pr::AppendInteger(reply, total);
}

}  // namespace

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: missing keys are
// empty strings. The table takes (|a|+1)(|b|+1) 32-bit cells, refused past
// proto_max_bulk_len as Redis refuses it.
void CmdLcs(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded x, y;
  if (!LoadOrReply(ctx, a[1], &x, reply) || !LoadOrReply(ctx, a[2], &y, reply))
    return;
  LcsOptions o;
  for (size_t j = 3; j < a.size(); ++j) {
    if (ArgIs(a[j], "idx")) {
      o.idx = true;
    } else if (ArgIs(a[j], "len")) {
      o.len = true;
    } else if (ArgIs(a[j], "withmatchlen")) {
      o.with_match_len = true;
    } else if (ArgIs(a[j], "minmatchlen") && j + 1 < a.size()) {
      if (!ParseInt64(a[++j], &o.min_match_len))
        return pr::AppendError(reply, kNotInteger);
      if (o.min_match_len < 0) o.min_match_len = 0;
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  if (o.idx && o.len) {
    return pr::AppendError(
        reply,
        "ERR If you want both the length and indexes, please just use IDX.");
  }
  constexpr uint64_t kMaxLen = std::numeric_limits<uint32_t>::max() - 1;
  if (x.value.size() >= kMaxLen || y.value.size() >= kMaxLen)
    return pr::AppendError(reply, "ERR String too long for LCS");
  const uint64_t cells = (x.value.size() + 1) * (y.value.size() + 1);
  if (cells > std::numeric_limits<uint64_t>::max() / sizeof(uint32_t)) {
    return pr::AppendError(
        reply,
        "ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  if (cells * sizeof(uint32_t) > ctx.info->config().proto_max_bulk_len) {
    return pr::AppendError(reply,
                           "ERR Insufficient memory, transient memory for LCS "
                           "exceeds proto-max-bulk-len");
  }
  std::unique_ptr<uint32_t[]> table(new (std::nothrow) uint32_t[cells]);
  if (!table) {
    return pr::AppendError(
        reply,
        "ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  ReplyLcs(x.value, y.value, o, table.get(), reply);
}

}  // namespace ember::server
