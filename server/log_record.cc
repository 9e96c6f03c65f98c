// server/log_record.cc: encoding and checking redo-log records and segment
// headers (the layout is in log_record.h).
#include "server/log_record.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>

#include "server/db_keyspace.h"

namespace ember::server {
namespace {

constexpr char kMagic[8] = {'E', 'M', 'B', 'E', 'R', 'L', 'O', 'G'};

void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= uint32_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

// The checksum of a record: its length field and its payload.
uint64_t RecordChecksum(const char* length_field, const char* payload,
                        size_t payload_bytes) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, length_field, 8);
  XXH3_64bits_update(&state, payload, payload_bytes);
  return XXH3_64bits_digest(&state);
}

}  // namespace

void AppendLogRecord(std::string* out, uint64_t lsn, uint64_t synced_lsn,
                     LogKind kind, uint64_t expiry_ms, std::string_view key,
                     std::string_view value, bool commit_end) {
  const size_t start = out->size();
  const size_t payload = kPayloadFixedBytes + key.size() + value.size();
  out->resize(start + kRecordHeaderBytes + payload);
  char* p = out->data() + start;
  PutU64(p, payload);
  char* body = p + kRecordHeaderBytes;
  PutU64(body, lsn);
  PutU64(body + 8, synced_lsn);
  body[16] =
      static_cast<char>(static_cast<uint8_t>(kind) | (commit_end ? 0x80 : 0));
  PutU64(body + 17, expiry_ms);
  PutU32(body + 25, static_cast<uint32_t>(key.size()));
  if (!key.empty()) std::memcpy(body + 29, key.data(), key.size());
  if (!value.empty())
    std::memcpy(body + 29 + key.size(), value.data(), value.size());
  PutU64(p + 8, RecordChecksum(p, body, payload));
}

DecodeResult DecodeLogRecord(std::string_view in, LogRecord* rec,
                             size_t* consumed) {
  if (in.size() < 8) {
    // A zero tail shorter than a length field is the end too.
    for (char c : in) {
      if (c != 0) return DecodeResult::kShort;
    }
    return DecodeResult::kEnd;
  }
  const uint64_t payload = GetU64(in.data());
  if (payload == 0) return DecodeResult::kEnd;
  if (payload < kPayloadFixedBytes) return DecodeResult::kBad;
  if (in.size() < kRecordHeaderBytes ||
      payload > in.size() - kRecordHeaderBytes) {
    return DecodeResult::kShort;
  }
  const char* body = in.data() + kRecordHeaderBytes;
  if (GetU64(in.data() + 8) != RecordChecksum(in.data(), body, payload))
    return DecodeResult::kBad;
  const uint8_t kind = static_cast<uint8_t>(body[16]) & 0x7f;
  const uint32_t key_bytes = GetU32(body + 25);
  if (kind < 1 || kind > 4 || key_bytes > payload - kPayloadFixedBytes)
    return DecodeResult::kBad;
  rec->lsn = GetU64(body);
  rec->synced_lsn = GetU64(body + 8);
  if (rec->synced_lsn >= rec->lsn) return DecodeResult::kBad;
  rec->kind = static_cast<LogKind>(kind);
  rec->commit_end = (static_cast<uint8_t>(body[16]) & 0x80) != 0;
  rec->expiry_ms = GetU64(body + 17);
  rec->key = std::string_view(body + 29, key_bytes);
  rec->value = std::string_view(body + 29 + key_bytes,
                                payload - kPayloadFixedBytes - key_bytes);
  // A map that is not a permutation would lose databases: damage.
  DbMap map;
  if (rec->kind == LogKind::kDbMap &&
      (!rec->key.empty() || !ParseDbMap(rec->value, &map)))
    return DecodeResult::kBad;
  *consumed = kRecordHeaderBytes + payload;
  return DecodeResult::kOk;
}

std::string EncodeSegmentHeader(uint64_t first_lsn) {
  std::string h(kSegmentHeaderBytes, '\0');
  std::memcpy(h.data(), kMagic, 8);
  PutU32(h.data() + 8, kLogVersion);
  PutU64(h.data() + 16, first_lsn);
  PutU64(h.data() + 24, XXH3_64bits(h.data(), 24));
  return h;
}

bool DecodeSegmentHeader(std::string_view in, uint64_t* first_lsn,
                         uint32_t* version) {
  if (in.size() < kSegmentHeaderBytes) return false;
  if (std::memcmp(in.data(), kMagic, 8) != 0) return false;
  if (version != nullptr) *version = GetU32(in.data() + 8);
  const uint32_t v = GetU32(in.data() + 8);
  if (v < kOldestLogVersion || v > kLogVersion) return false;
  if (GetU64(in.data() + 24) != XXH3_64bits(in.data(), 24)) return false;
  *first_lsn = GetU64(in.data() + 16);
  return true;
}

}  // namespace ember::server
