#include "sinks/spool_layout.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "sinks/atomic_file.h"
#include "sinks/envelope.h"

namespace crashwrap::sinks {

using Json = nlohmann::json;
using parsers::Timestamp;
using namespace std::chrono_literals;

std::string_view stage_name(Stage s) noexcept {
  switch (s) {
    case Stage::Pending: return "pending";
    case Stage::Sent: return "sent";
    case Stage::Dropped: return "dropped";
  }
  return "pending";
}

std::string_view dsn_status_name(DsnStatus s) noexcept {
  switch (s) {
    case DsnStatus::Pending: return "pending";
    case DsnStatus::Retry: return "retry";
    case DsnStatus::Sent: return "sent";
    case DsnStatus::Dropped: return "dropped";
  }
  return "pending";
}

std::string dsn_key(std::string_view dsn) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : dsn) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string dsn_label(std::string_view dsn) {
  const std::size_t scheme = dsn.find("://");
  std::string_view rest = scheme == std::string_view::npos ? dsn : dsn.substr(scheme + 3);
  const std::size_t at = rest.find('@');
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(rest);
}

DsnDelivery SpoolEntry::delivery_for(std::string_view dsn) const {
  const std::string key = dsn_key(dsn);
  for (const auto& d : deliveries)
    if (d.key == key) return d;
  DsnDelivery d;
  d.key = key;
  d.label = dsn_label(dsn);
  return d;
}

namespace layout {

std::string envelope_path(const std::string& dir, Stage s, std::string_view id) {
  return dir + "/" + std::string(stage_name(s)) + "/" + std::string(id) + std::string(kSuffix);
}
std::string record_path(const std::string& dir, std::string_view id) {
  return dir + "/records/" + std::string(id) + ".json";
}

// The pid lets reclaim_stale() tell a dead writer's leftovers from a live writer's file.
std::string tmp_path(const std::string& dir, std::string_view base) {
  static std::atomic<std::uint64_t> seq{0};
  return dir + "/" + std::string(base) + "." + std::to_string(::getpid()) + "." +
         std::to_string(seq.fetch_add(1)) + ".tmp";
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_' || c == '.';
  }) && s.front() != '.';
}

std::string random_id() {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t i = 0; i < id.size(); i += 8) {
    std::uint32_t r = rd();
    for (std::size_t j = 0; j < 8; ++j, r >>= 4) id[i + j] = hex[r & 0xf];
  }
  return id;
}

int try_lock_entry(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat by_fd {}, by_path {};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &by_fd) != 0 ||
      ::stat(path.c_str(), &by_path) != 0 || by_fd.st_ino != by_path.st_ino ||
      by_fd.st_dev != by_path.st_dev) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

std::optional<Timestamp> time_field(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return parse_rfc3339(it->get<std::string>());
}

DsnStatus status_from(std::string_view s) {
  if (s == "retry") return DsnStatus::Retry;
  if (s == "sent") return DsnStatus::Sent;
  if (s == "dropped") return DsnStatus::Dropped;
  return DsnStatus::Pending;
}

}  // namespace

Json record_json(const SpoolEntry& e) {
  Json dsns = Json::object();
  for (const auto& d : e.deliveries) {
    Json j = {{"label", d.label}, {"status", dsn_status_name(d.status)}, {"attempts", d.attempts}};
    if (d.retry_at) j["retry_at"] = rfc3339(*d.retry_at);
    if (!d.reason.empty()) j["reason"] = d.reason;
    if (d.updated) j["updated"] = rfc3339(*d.updated);
    dsns[d.key] = std::move(j);
  }
  return {{"id", e.id},           {"saved_at", rfc3339(e.saved_at)},
          {"category", e.category}, {"summary", e.summary},
          {"dsns", std::move(dsns)}};
}

void apply_record(SpoolEntry& e, const Json& r) {
  if (!r.is_object()) return;
  if (auto t = time_field(r, "saved_at")) e.saved_at = *t;
  if (r.contains("category") && r["category"].is_string()) e.category = r["category"];
  if (r.contains("summary") && r["summary"].is_string()) e.summary = r["summary"];
  if (!r.contains("dsns") || !r["dsns"].is_object()) return;
  for (const auto& [key, j] : r["dsns"].items()) {
    if (!j.is_object()) continue;
    DsnDelivery d;
    d.key = key;
    d.label = j.value("label", "");
    d.status = status_from(j.value("status", "pending"));
    d.attempts = j.value("attempts", 0u);
    d.retry_at = time_field(j, "retry_at");
    d.reason = j.value("reason", "");
    d.updated = time_field(j, "updated");
    e.deliveries.push_back(std::move(d));
  }
}

std::optional<SpoolEntry> load_entry(const std::string& dir, Stage stage, std::string_view id) {
  SpoolEntry e;
  e.id = std::string(id);
  e.stage = stage;
  e.path = envelope_path(dir, stage, id);
  struct stat st {};
  if (::stat(e.path.c_str(), &st) != 0) return std::nullopt;
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.saved_at = Timestamp{std::chrono::duration_cast<parsers::Clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec))};
  if (auto text = read_file(record_path(dir, id), kMaxRecordBytes))
    apply_record(e, Json::parse(*text, nullptr, false));
  return e;
}

std::vector<SpoolEntry> load_stage(const std::string& dir, Stage stage) {
  std::vector<SpoolEntry> out;
  for (const auto& name : list_dir(dir + "/" + std::string(stage_name(stage)))) {
    if (name.size() <= kSuffix.size() || name.compare(name.size() - kSuffix.size(),
                                                      kSuffix.size(), kSuffix) != 0)
      continue;
    const std::string id = name.substr(0, name.size() - kSuffix.size());
    if (!valid_name(id)) continue;
    if (auto e = load_entry(dir, stage, id)) out.push_back(std::move(*e));
  }
  return out;
}

Usage usage(const std::string& dir) {
  Usage u;
  for (Stage stage : kStages) {
    const std::string d = dir + "/" + std::string(stage_name(stage)) + "/";
    for (const auto& name : list_dir(d)) {
      if (name.size() <= kSuffix.size() ||
          name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
        continue;
      struct stat st {};
      if (::stat((d + name).c_str(), &st) != 0) continue;
      ++u.files;
      u.bytes += static_cast<std::uint64_t>(st.st_size);
    }
  }
  return u;
}

void oldest_first(std::vector<SpoolEntry>& v) {
  std::sort(v.begin(), v.end(), [](const SpoolEntry& a, const SpoolEntry& b) {
    return a.saved_at != b.saved_at ? a.saved_at < b.saved_at : a.id < b.id;
  });
}

bool is_final(DsnStatus s) { return s == DsnStatus::Sent || s == DsnStatus::Dropped; }

bool owed_to(const SpoolEntry& e, std::string_view dsn) {
  return !is_final(e.delivery_for(dsn).status);
}

bool stale_tmp(const std::string& path, std::string_view name, Timestamp now) {
  if (name.size() < 4 || name.substr(name.size() - 4) != ".tmp") return false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  const auto age = now - Timestamp{std::chrono::seconds(st.st_mtim.tv_sec)};
  const std::string_view rest = name.substr(0, name.size() - 4);
  const std::size_t seq_dot = rest.rfind('.');
  const std::size_t pid_dot = seq_dot == std::string_view::npos ? seq_dot : rest.rfind('.', seq_dot - 1);
  int pid = 0;
  if (pid_dot != std::string_view::npos)
    pid = std::atoi(std::string(rest.substr(pid_dot + 1, seq_dot - pid_dot - 1)).c_str());
  const bool writer_dead = pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH;
  return (writer_dead && age > 60s) || age > 1h;
}

FileLock::FileLock(const std::string& path)
    : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
  while (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace layout
}  // namespace crashwrap::sinks
