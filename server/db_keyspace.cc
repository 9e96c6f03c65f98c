// server/db_keyspace.cc: a database's view of the stored keyspace: the
// database byte added to keys going in, stripped from keys coming out.
#include "server/db_keyspace.h"

#include <cstring>

#include "shm/arena_format.h"

namespace ember::server {

std::string StoredKey(uint8_t db, std::string_view key) {
  std::string s;
  s.reserve(key.size() + 1);
  s.push_back(static_cast<char>(db));
  s.append(key);
  return s;
}

DbMap IdentityDbMap() {
  DbMap m;
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i);
  return m;
}

bool ParseDbMap(std::string_view bytes, DbMap* map) {
  if (bytes.size() != map->size()) return false;
  std::memcpy(map->data(), bytes.data(), map->size());
  return shm::IsDbMapPermutation(map->data());
}

const std::string& DbKeyspace::Stored(std::string_view key) const {
  buf_.assign(1, static_cast<char>(db_));
  buf_.append(key);
  return buf_;
}

shm::Status DbKeyspace::Load(std::string_view key, std::string* value,
                             uint64_t* expiry_ms) {
  return stored_->Load(Stored(key), value, expiry_ms);
}

shm::Status DbKeyspace::CheckStore(std::string_view key,
                                   size_t value_bytes) const {
  return stored_->CheckStore(Stored(key), value_bytes);
}

void DbKeyspace::Store(std::string_view key, std::string_view value,
                       uint64_t expiry_ms) {
  stored_->Store(Stored(key), value, expiry_ms);
}

void DbKeyspace::Remove(std::string_view key) { stored_->Remove(Stored(key)); }

bool DbKeyspace::FirstKeyFrom(const std::string& from, std::string* key) {
  std::string cursor = from;
  do {
    std::vector<std::string> page;
    cursor = stored_->Scan(cursor, 16, &page);
    if (!page.empty()) {
      *key = std::move(page[0]);
      return true;
    }
  } while (!cursor.empty());
  return false;
}

bool DbKeyspace::AloneInKeyspace() {
  std::string first;
  if (!FirstKeyFrom("", &first)) return true;
  if (!Mine(first)) return false;
  if (db_ == 255) return true;
  return !FirstKeyFrom(std::string(1, static_cast<char>(db_ + 1)), &first);
}

void DbKeyspace::RemoveAll() {
  if (AloneInKeyspace()) return stored_->RemoveAll();
  // Collected first: the scan must not see its own removals.
  std::vector<std::string> doomed;
  std::string cursor;
  do {
    std::vector<std::string> page;
    cursor = Scan(cursor, 4096, &page);
    for (auto& k : page) doomed.push_back(std::move(k));
  } while (!cursor.empty());
  for (const auto& k : doomed) Remove(k);
}

std::string DbKeyspace::Scan(const std::string& cursor, size_t count,
                             std::vector<std::string>* keys) {
  std::vector<std::string> page;
  const std::string next = stored_->Scan(Stored(cursor), count, &page);
  for (const auto& k : page) {
    if (!Mine(k)) return "";  // past this database: done
    keys->push_back(k.substr(1));
  }
  // The next page's first key is never this database's empty key (the
  // first of the database), so "" still means done.
  return Mine(next) ? next.substr(1) : "";
}

shm::Status DbKeyspace::RandomKey(std::string* key) {
  std::string stored;
  const shm::Status s = stored_->RandomKeyIn(Stored(""), &stored);
  if (s.ok()) *key = stored.substr(1);
  return s;
}

}  // namespace ember::server
