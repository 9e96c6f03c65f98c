// server/commands_dump.cc: DUMP and RESTORE (REPLACE ABSTTL IDLETIME FREQ)
// with Redis's payload (rdb_string.h), so strings move between Ember and
// Redis 7 in either direction.
#include "protocol/resp_writer.h"
#include "server/command_util.h"
#include "server/commands.h"
#include "server/rdb_string.h"
#include "shm/reclaimer.h"

namespace ember::server {
namespace pr = ember::protocol;

void CmdDump(const Args& a, CommandContext& ctx, std::string* reply) {
  Loaded v;
  if (!LoadOrReply(ctx, a[1], &v, reply)) return;
  if (!v.found) return pr::AppendNullBulk(reply);
  pr::AppendBulk(reply, DumpString(v.value));
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], checked
// in Redis's order: options, an existing key, the TTL, the payload. IDLETIME
// and FREQ are checked and then ignored (Ember keeps no access times).
void CmdRestore(const Args& a, CommandContext& ctx, std::string* reply) {
  bool replace = false, absttl = false, idle = false, freq = false;
  for (size_t j = 4; j < a.size(); ++j) {
    const bool more = j + 1 < a.size();
    int64_t n = 0;
    if (ArgIs(a[j], "replace")) {
      replace = true;
    } else if (ArgIs(a[j], "absttl")) {
      absttl = true;
    } else if (ArgIs(a[j], "idletime") && more && !freq) {
      if (!ParseInt64(a[++j], &n)) return pr::AppendError(reply, kNotInteger);
      if (n < 0) {
        return pr::AppendError(reply,
                               "ERR Invalid IDLETIME value, must be >= 0");
      }
      idle = true;
    } else if (ArgIs(a[j], "freq") && more && !idle) {
      if (!ParseInt64(a[++j], &n)) return pr::AppendError(reply, kNotInteger);
      if (n < 0 || n > 255) {
        return pr::AppendError(
            reply, "ERR Invalid FREQ value, must be >= 0 and <= 255");
      }
      freq = true;
    } else {
      return pr::AppendError(reply, kSyntaxError);
    }
  }
  Loaded old;
  if (!LoadOrReply(ctx, a[1], &old, reply)) return;
  if (old.found && !replace) {
    return pr::AppendError(reply, "BUSYKEY Target key name already exists.");
  }
  int64_t ttl = 0;
  if (!ParseInt64(a[2], &ttl)) return pr::AppendError(reply, kNotInteger);
  if (ttl < 0)
    return pr::AppendError(reply, "ERR Invalid TTL value, must be >= 0");
  std::string value;
  switch (LoadDump(a[3], &value)) {
    case DumpError::kChecksum:
      return pr::AppendError(reply,
                             "ERR DUMP payload version or checksum are wrong");
    case DumpError::kFormat:
      return pr::AppendError(reply, "ERR Bad data format");
    case DumpError::kNone:
      break;
  }
  const uint64_t now = shm::NowUnixMs();
  uint64_t expiry = static_cast<uint64_t>(ttl);
  if (ttl != 0 && !absttl) expiry += now;
  if (ttl != 0 && expiry <= now) {
    // Already expired: as Redis, the old key goes and nothing is stored.
    if (old.found) ctx.keys->Remove(a[1]);
    return pr::AppendOk(reply);
  }
  if (ReplyIfCannotStore(ctx, a[1], value.size(), reply)) return;
  ctx.keys->Store(a[1], value, expiry);
  pr::AppendOk(reply);
}

}  // namespace ember::server
