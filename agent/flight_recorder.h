// The flight recorder: a small memory-mapped file per run in <spool>/runs/ that
// says "this child is running" and holds its output tail, so that when crashwrap
// and its child are both killed (a cgroup OOM kill of the whole container, a
// SIGKILL), the next crashwrap start on the same spool reports that run's end.
//
// The file (run-<pid>-<nonce>.rec, mode 0600) holds magic+version, the owner's
// pid, its start time (/proc/self/stat starttime, to defeat pid reuse), boot id
// and pid namespace, the child's pid and start time, the state
// (starting → running → ended), the command, the OOM counters read before the
// start, and the tail as a ring of bytes. Lines are plain stores into the
// shared mapping: no syscall per line; the kernel writes the pages back even if
// the process is SIGKILLed. The owner also holds an flock on the file while it
// lives, which tells a live owner from a dead one across pid namespaces.
//
// Life cycle: create() → child_started() → on_line()* → child_ended() →
// remove(). A record left "running" by a dead owner is an abandoned run;
// recover() claims it (atomic rename, so two crashwraps starting together do
// not both report it), reads it and deletes it. Records left "starting" or
// "ended" by a dead owner are deleted silently.
//
// Threads: a FlightRecorder is used by the event-loop thread only; recover() is
// called once at start, before the child runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/exit_classifier.h"
#include "parsers/model.h"

namespace crashwrap::agent {

struct AbandonedRun {
  std::vector<std::string> argv;
  int owner_pid = 0;
  int child_pid = 0;
  parsers::Timestamp started{};       // child start
  parsers::Timestamp last_update{};   // last line seen (or the start)
  std::vector<parsers::LogLine> tail; // oldest first, what the ring still holds
  std::vector<parsers::OomCounter> oom_before;
  std::string record_path;            // where the record was (already deleted)
  // The run's release-health session, when one was recorded (sid "" = none).
  std::string session_sid;
  parsers::Timestamp session_started{};
  std::uint64_t session_errors = 0;
  std::string session_release;
  std::string session_environment;
};

// How the abandoned run ended, as far as can be told afterwards: OomKilled when
// one of its cgroups' oom_kill counters grew since it started (counters_now is
// read_oom_counters(0) now), else Unknown. Duration = last_update - started.
parsers::ExitInfo classify_abandoned_run(const AbandonedRun& run,
                                         const std::vector<parsers::OomCounter>& counters_now);

class FlightRecorder {
 public:
  // Creates <spool_dir>/runs/ (0700) and this run's record, with a ring of at
  // least `tail_bytes` (≥ 4 KiB). nullopt + one diag warning if impossible (the
  // app still runs, without a recorder).
  static std::optional<FlightRecorder> create(const std::string& spool_dir,
                                              const std::vector<std::string>& argv,
                                              std::size_t tail_bytes);

  FlightRecorder(FlightRecorder&& other) noexcept;
  FlightRecorder& operator=(FlightRecorder&& other) noexcept;
  FlightRecorder(const FlightRecorder&) = delete;
  FlightRecorder& operator=(const FlightRecorder&) = delete;
  ~FlightRecorder();  // unmaps and closes (releasing the lock); keeps the file

  // Marks the record running. Call right after the child was spawned.
  void child_started(int pid, parsers::Timestamp start,
                     const std::vector<parsers::OomCounter>& oom_before);
  // Remembers the lifetime's session, so that recovery can close that very
  // session as abnormal. A sid, release or environment too long for the
  // record's session area (39, 135, 63 bytes) records no session.
  void set_session(std::string_view sid, parsers::Timestamp started, std::string_view release,
                   std::string_view environment);
  void set_session_errors(std::uint64_t errors);
  // Appends the line to the ring. Event loop; stores only, no syscall.
  void on_line(const parsers::Line& line);
  // Marks the record ended (the child was reaped; crashwrap reports it itself).
  void child_ended();
  // Deletes the record at a clean end of crashwrap. Idempotent.
  void remove();

  const std::string& path() const noexcept { return path_; }
  std::size_t ring_capacity() const noexcept { return ring_size_; }

  // Records still "running" whose owner is dead, oldest first; each claimed and
  // deleted. Deletes "starting"/"ended" records of dead owners. Leaves records
  // of live owners alone. A corrupt or foreign file gets one diag warning and
  // is left in place. Temporary files of a create() killed midway are removed
  // once 10 minutes old. Never throws; a missing runs/ directory yields nothing.
  static std::vector<AbandonedRun> recover(const std::string& spool_dir);

 private:
  FlightRecorder() = default;
  void release() noexcept;

  std::string path_;
  int fd_ = -1;
  unsigned char* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t ring_size_ = 0;
  // The prefix of the last record: lines read in one chunk share their time,
  // so its 16 hex digits are written once per chunk, not once per line.
  std::uint64_t prefix_ns_ = 0;
  char prefix_[17] = {'o', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'};
};

}  // namespace crashwrap::agent
