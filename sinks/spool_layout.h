// How the spool is laid out on disk (see the Spool class comment in
// sinks/spool.h): paths, per-entry records, entry locks, stale-file rules.
// Internal to sinks/spool.cpp and the Claim; nothing else should depend on it.
// Any thread; no shared state except the tmp-name sequence (atomic).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sinks/spool.h"

namespace crashwrap::sinks {

// What a Spool and its Claims share: the options the spool was opened with.
struct Claim::Shared {
  SpoolOptions options;
};

}  // namespace crashwrap::sinks

namespace crashwrap::sinks::layout {

inline constexpr std::string_view kSuffix = ".envelope.zst";
inline constexpr std::size_t kMaxFileBytes = 256u * 1024 * 1024;  // bound on one entry, read or decompressed
inline constexpr std::size_t kMaxRecordBytes = 64 * 1024;
inline constexpr Stage kStages[] = {Stage::Pending, Stage::Sent, Stage::Dropped};
inline constexpr const char* kSubdirs[] = {"new", "pending", "sent", "dropped", "records", "state"};

std::string envelope_path(const std::string& dir, Stage s, std::string_view id);
std::string record_path(const std::string& dir, std::string_view id);
// "<dir>/<base>.<pid>.<seq>.tmp", unique per process and call.
std::string tmp_path(const std::string& dir, std::string_view base);
// Ids and state names: 1–64 of [A-Za-z0-9._-], not starting with '.'.
bool valid_name(std::string_view s);
std::string random_id();  // 32 lowercase hex

// The record file's JSON and back (unknown or damaged fields are ignored).
nlohmann::json record_json(const SpoolEntry& e);
void apply_record(SpoolEntry& e, const nlohmann::json& record);

// One entry from its envelope file and record; nullopt when the file is gone.
// Without a record, saved_at is the file's mtime.
std::optional<SpoolEntry> load_entry(const std::string& dir, Stage stage, std::string_view id);
std::vector<SpoolEntry> load_stage(const std::string& dir, Stage stage);
void oldest_first(std::vector<SpoolEntry>& entries);

// Entry count and envelope bytes over every stage, from directory listings and stat(2).
struct Usage {
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};
Usage usage(const std::string& dir);

bool is_final(DsnStatus s);
bool owed_to(const SpoolEntry& e, std::string_view dsn);

// Opens and flock(2)s `path` without blocking and checks that the path still
// names the locked file (it may have moved between open and flock). The fd, or
// -1 when the file is gone or someone else holds it.
int try_lock_entry(const std::string& path);

// A writer's tmp file is stale when its writer is dead (and it is over a
// minute old), or when it is over an hour old (a pid of another PID namespace).
bool stale_tmp(const std::string& path, std::string_view name, parsers::Timestamp now);

// An exclusive flock(2) on `path` held for the object's life. Separate open()
// calls get separate locks, so threads of one process exclude each other too.
class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace crashwrap::sinks::layout
