// Crash-loop protection: per local fingerprint (BuiltEvent::fingerprint), the
// first `limit` events of each window are saved in full; the rest of the window
// are only counted. A window opens with the first event of a fingerprint and
// lasts `window`; the next event after it opens the next window.
//
// The count of suppressed events is reported exactly once, by whichever comes
// first after the window has ended:
//   - the next full event of that fingerprint carries it (extra
//     "crashwrap.suppressed": N, tag "crashwrap.crash_loop": "suppressed"), or
//   - one summary event (level warning, logentry "… N more events …", the same
//     tags, extra window_start/window_end) saved by the first crashwrap that
//     notices the ended window: at its start, or when it saves any event.
// Suppressed events are not client-reported: they are not lost, the summary
// count is their record (a before_send discard would show them as dropped).
//
// Fatal crashes are deduplicated like any other event, never sampled.
//
// State lives in the spool (state/crash-loop.json) so that a restart loop of
// crashwrap itself (a container restart policy) shares one count; several
// processes may share the spool, so every read-modify-write happens under the
// spool lock. A state that cannot be read or written keeps the event (it is
// better to send too much than to lose a crash).
//
// CrashLoopPolicy is pure (state and clock are arguments; a clock that goes
// backwards stays in the current window). The spool functions may be called
// from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "parsers/model.h"

namespace crashwrap::sinks {

class Spool;
struct BuiltEvent;

struct CrashLoopVerdict {
  bool keep = true;               // save this event in full
  std::uint64_t carried = 0;      // suppressed count of the ended window this event reports
  std::uint64_t in_window = 0;    // events of the fingerprint in the current window, this one included
};

struct CrashLoopSummary {
  std::string fingerprint;
  std::string title;              // the fingerprint's event title ("SIGSEGV: Segmentation fault")
  std::uint64_t suppressed = 0;
  parsers::Timestamp window_start{};
  parsers::Timestamp window_end{};
};

class CrashLoopPolicy {
 public:
  CrashLoopPolicy(std::size_t limit, std::chrono::milliseconds window) : limit_(limit), window_(window) {}
  explicit CrashLoopPolicy(const config::Config& c) : CrashLoopPolicy(c.crash_loop_limit, c.crash_loop_window) {}

  // A limit or window of 0 turns protection off: every event is kept.
  bool enabled() const noexcept { return limit_ > 0 && window_.count() > 0; }

  // Counts one event of `fingerprint` in `state` (an object; anything else is
  // treated as empty) and says whether to keep it.
  CrashLoopVerdict admit(nlohmann::json& state, const std::string& fingerprint, const std::string& title,
                         parsers::Timestamp now) const;
  // Removes every ended window from `state`; those with suppressed events
  // become summaries (oldest window first).
  std::vector<CrashLoopSummary> take_ended(nlohmann::json& state, parsers::Timestamp now) const;

 private:
  std::size_t limit_;
  std::chrono::milliseconds window_;
};

// ---- persisted in a spool (state/crash-loop.json, under the spool lock) ----

struct CrashLoopUpdate {
  CrashLoopVerdict verdict;
  std::vector<CrashLoopSummary> ended;  // other fingerprints' ended windows, now claimed
};
CrashLoopUpdate crash_loop_admit(Spool& spool, const CrashLoopPolicy& policy, const std::string& fingerprint,
                                 const std::string& title, parsers::Timestamp now);
std::vector<CrashLoopSummary> crash_loop_take_ended(Spool& spool, const CrashLoopPolicy& policy,
                                                    parsers::Timestamp now);

// Marks a full event as the one carrying `count` suppressed events.
void add_suppressed_count(BuiltEvent& event, std::uint64_t count);
// The summary event of an ended window (valid against the event schema).
BuiltEvent crash_loop_summary_event(const config::Config& config, const CrashLoopSummary& summary,
                                    parsers::Timestamp now);

}  // namespace crashwrap::sinks
