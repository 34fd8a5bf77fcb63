// What crashwrap keeps passes through here: output lines before the output
// tail and the flight recorder (scrubbed copies), events before the spool
// (sampled, crash-loop limited, scrubbed). The order for an event:
//   1. --sample-rate, handled (logged) errors only: a sampled-out event is
//      counted in the spool's discarded counters as (sample_rate, category)
//      and feeds a client report. Crashes that end the app are never sampled.
//   2. crash-loop protection (sinks/crash_loop.h), every event: over the
//      limit it is counted and not saved; the first full event after an
//      ended window carries the count; summaries of other ended windows are
//      saved to the spool here.
//   3. the Scrubber (sinks/scrubber.h) on a copy: event JSON and attachments.
// Lines are scrubbed one at a time: a private key printed over several lines
// keeps its body lines in the output tail and the flight record (a file in the
// spool, 0600, deleted at the end of the run); every event built from them drops
// them (the attachment is scrubbed as one text, breadcrumbs between the key's
// markers are filtered).
// Event loop only (one Protection per pipeline).
#pragma once

#include <cstddef>
#include <optional>
#include <random>
#include <string>

#include "config/config.h"
#include "parsers/model.h"
#include "sinks/crash_loop.h"
#include "sinks/event_builder.h"
#include "sinks/scrubber.h"

namespace crashwrap::sinks {

class Spool;

// An event crashwrap reports about an app that ended (an unhandled
// exception): any exception with mechanism.handled false.
bool is_fatal(const BuiltEvent& event);

class Protection {
 public:
  explicit Protection(const config::Config& config);

  // The line to keep: `line` itself, or a scrubbed copy that stays valid until
  // the next call. The app's own output is never changed.
  const parsers::Line& kept_line(const parsers::Line& line);

  // The event to save (scrubbed), or nullopt when it is sampled out or over
  // the crash-loop limit. Saves crash-loop summaries of ended windows.
  std::optional<BuiltEvent> admit(const BuiltEvent& event, Spool& spool,
                                  parsers::Timestamp now = parsers::Clock::now());
  // Saves the summaries of ended windows (at start). Returns how many.
  std::size_t save_ended_windows(Spool& spool, parsers::Timestamp now = parsers::Clock::now());

  const Scrubber& scrubber() const noexcept { return scrubber_; }
  // Whether admit() held this event back for crash-loop protection.
  bool held_back(std::string_view event_id) const noexcept { return held_back_ == event_id; }

 private:
  bool sampled_out(const BuiltEvent& event);
  std::size_t save_summaries(Spool& spool, const std::vector<CrashLoopSummary>& ended, parsers::Timestamp now);

  const config::Config& cfg_;
  Scrubber scrubber_;
  CrashLoopPolicy crash_loop_;
  std::mt19937_64 rng_;
  std::string line_text_;
  parsers::Line line_;
  bool told_suppressed_ = false;
  std::string held_back_;  // event id of the last event over the crash-loop limit
};

}  // namespace crashwrap::sinks
