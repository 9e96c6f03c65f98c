// server/log_record.h: the bytes of the redo log (DESIGN.md "The redo
// log"). A segment file is a 32-byte header, then records back to back,
// then zeros (the file is preallocated). All integers are little-endian.
//
//   segment header: "EMBERLOG" | u32 version (3) | u32 0 | u64 first_lsn
//                   | u64 XXH3-64 of the 24 bytes before it
//   record:         u64 payload_bytes | u64 XXH3-64 of (payload_bytes,
//                   payload) | payload
//   payload:        u64 lsn | u64 synced_lsn | u8 kind | u64 expiry_ms
//                   | u32 key_bytes | key | value (the rest)
//   kind:           1 put, 2 delete, 3 clear, 4 db map; | 0x80 on the last
//                   record of its group commit (recovery applies whole
//                   commits only)
//
// A record states a key's final state after a commit (a Put carries the
// whole value, INCR's included), so applying a record twice is the same as
// once. kClear (FLUSHALL) carries no key and removes every key older than
// its LSN. kDbMap (SWAPDB) carries no key and, as its value, the whole
// database map after the commit (server/db_keyspace.h DbMap: 256 bytes, a
// permutation), so it too can be applied twice. synced_lsn: every record up to
// it was on disk (fdatasync) when this record was written; recovery tells a
// torn tail from damage by it. payload_bytes == 0 marks the end of the written
// part. Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::server {

enum class LogKind : uint8_t { kPut = 1, kDelete = 2, kClear = 3, kDbMap = 4 };

// 2: keys are stored keys (a database byte first, server/db_keyspace.h).
// 3: kDbMap records may appear. Segments of versions 2 and 3 are read (2 is
// 3 without kDbMap); version 1 segments (bare keys) are refused by name at
// start, and an Ember that knows only version 2 refuses version 3's.
inline constexpr uint32_t kLogVersion = 3;
inline constexpr uint32_t kOldestLogVersion = 2;
inline constexpr size_t kSegmentHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 16;
// lsn, synced_lsn, kind, expiry, key_bytes.
inline constexpr size_t kPayloadFixedBytes = 8 + 8 + 1 + 8 + 4;

// One decoded record; the views point into the bytes it was decoded from.
struct LogRecord {
  uint64_t lsn = 0;
  uint64_t synced_lsn = 0;
  bool commit_end = false;  // the last record of its group commit
  LogKind kind = LogKind::kPut;
  uint64_t expiry_ms = 0;  // Unix ms; 0 = never
  std::string_view key, value;
};

// A record that outlives the bytes it was decoded from.
struct LogRecordCopy {
  uint64_t lsn = 0;
  LogKind kind = LogKind::kPut;
  uint64_t expiry_ms = 0;
  std::string key, value;
};

// The encoded size of a record with this key and value.
inline size_t RecordBytes(size_t key_bytes, size_t value_bytes) {
  return kRecordHeaderBytes + kPayloadFixedBytes + key_bytes + value_bytes;
}

// Appends one record to `*out`. REQUIRES: key.size() < 2^32.
void AppendLogRecord(std::string* out, uint64_t lsn, uint64_t synced_lsn,
                     LogKind kind, uint64_t expiry_ms, std::string_view key,
                     std::string_view value, bool commit_end = true);

enum class DecodeResult {
  kOk,     // *rec and *consumed set
  kEnd,    // payload_bytes == 0: nothing was written here
  kShort,  // the record runs past the end of `in`
  kBad,    // checksum mismatch, impossible sizes or an unknown kind
};
// Decodes the record at the start of `in`.
DecodeResult DecodeLogRecord(std::string_view in, LogRecord* rec,
                             size_t* consumed);

// The segment header for a segment whose first record has `first_lsn`.
std::string EncodeSegmentHeader(uint64_t first_lsn);
// False when `in` is not a header of version kOldestLogVersion to
// kLogVersion with a valid checksum.
// *version (if given): the version field whenever the magic is there.
bool DecodeSegmentHeader(std::string_view in, uint64_t* first_lsn,
                         uint32_t* version = nullptr);

}  // namespace ember::server
