// Finds the memory cgroup of a process and reads its OOM evidence: the oom_kill
// counter, the memory limit and the peak usage.
//   cgroup v2: the "0::/path" line of /proc/<pid>/cgroup, under the cgroup2 mount
//              (memory.events, memory.max, memory.peak);
//   cgroup v1: the line naming the "memory" controller, under its mount
//              (memory.oom_control, memory.limit_in_bytes, memory.max_usage_in_bytes).
// A hybrid system (v1 memory controller plus an empty v2 hierarchy) uses v1.
// Mount points come from /proc/self/mountinfo. Roots are injectable so tests run
// on fixture trees. Never throws; whatever is unreadable is simply absent.
// Any thread may call (no shared state).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parsers/exit_classifier.h"

namespace crashwrap::agent {

struct ProbeRoots {
  std::string proc = "/proc";   // where <pid>/cgroup, self/mountinfo, <pid>/status live
  std::string fs;               // prefix for the mount points read from mountinfo ("" = real "/")
};

enum class CgroupVersion : std::uint8_t { None, V1, V2 };

class CgroupProbe {
 public:
  CgroupProbe() = default;                         // no cgroup: read() returns nothing
  explicit CgroupProbe(ProbeRoots roots);          // roots only; call locate()

  // Finds the memory cgroup of `pid` (0 = self) under the real /proc and /sys.
  static CgroupProbe discover(pid_t pid);
  static CgroupProbe discover(pid_t pid, const ProbeRoots& roots);

  // Finds the memory cgroup of `pid` (0 = self); false (version None) if none.
  bool locate(pid_t pid);

  CgroupVersion version() const noexcept { return version_; }
  const std::string& cgroup() const noexcept { return cgroup_; }      // "/a/b"
  const std::string& directory() const noexcept { return dir_; }      // its sysfs directory

  // One counter for the located cgroup (empty if none or unreadable). The limit
  // is the smallest one set on the cgroup or an ancestor inside the mount.
  std::vector<parsers::OomCounter> read() const;

 private:
  ProbeRoots roots_;
  CgroupVersion version_ = CgroupVersion::None;
  std::string cgroup_;
  std::string dir_;
  std::string mount_dir_;
};

// Counters of crashwrap's own memory cgroup and of `child`'s (0 = only own),
// once per distinct cgroup. This is what goes into ExitEvidence::before/after.
std::vector<parsers::OomCounter> read_oom_counters(pid_t child, const ProbeRoots& roots = {});

// VmRSS of /proc/<pid>/status in bytes; nullopt when gone or unreadable.
std::optional<std::uint64_t> read_rss_bytes(pid_t pid, const std::string& proc_root = "/proc");

// A memory size file: "max", or a value ≥ 2^62 (v1's "unlimited"), is no limit.
std::optional<std::uint64_t> parse_memory_value(std::string_view text);

}  // namespace crashwrap::agent
