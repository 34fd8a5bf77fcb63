// How the child ended: wait status + evidence → ExitInfo (parsers/model.h).
// Pure code: no I/O, no clock. The evidence is gathered by agent/cgroup_probe.h.
//
// OOM needs evidence, never the number 137 alone: an OOM kill is only claimed
// when an oom_kill counter of a memory cgroup read before the start and after the
// exit has increased.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/model.h"
#include "parsers/signal_names.h"

namespace crashwrap::parsers {

// One reading of one memory cgroup's OOM-kill counter (plus limit and peak).
struct OomCounter {
  std::string source;            // "memory.events" (v2) | "memory.oom_control" (v1)
  std::string cgroup;            // cgroup path as in /proc/<pid>/cgroup, e.g. "/app.slice/x"
  std::uint64_t oom_kill = 0;
  std::optional<std::uint64_t> limit;   // bytes; nullopt = no limit ("max" / huge value)
  std::optional<std::uint64_t> peak;    // bytes; nullopt = not readable (v2 before 5.19)
};

// The "oom_kill N" line of a v2 memory.events / v1 memory.oom_control file.
// nullopt when the line is missing or its value is not a number (v1 before 4.13).
std::optional<std::uint64_t> parse_oom_kill_v2(std::string_view memory_events_text);
std::optional<std::uint64_t> parse_oom_kill_v1(std::string_view oom_control_text);

struct ExitEvidence {
  int wait_status = 0;                        // as filled by waitpid()
  std::chrono::milliseconds duration{0};      // child start → exit
  std::vector<OomCounter> before, after;      // paired by (source, cgroup)
  std::optional<std::uint64_t> last_rss;      // bytes, last sampled RSS of the child
};

// Clean (exit 0), ErrorExit (exit N), Signal (name, core dumped), or OomKilled
// when the child was SIGKILLed and a paired counter increased (signal = 9).
// An exit N (e.g. 137 from `sh -c` whose own child was OOM-killed) stays
// ErrorExit N and carries the OOM evidence in `oom` when a counter increased.
// `oom` is set only when some counter increased (the first increased pair in
// `after` order); `last_rss` and `duration` are copied through.
ExitInfo classify_exit(const ExitEvidence& evidence);

// For a previous run found dead by the flight recorder: no wait status exists.
// OomKilled (signal 9, the OOM killer's signal) when a paired counter increased,
// else Unknown. `wait_status` is ignored.
ExitInfo classify_abandoned(const ExitEvidence& evidence);

}  // namespace crashwrap::parsers
