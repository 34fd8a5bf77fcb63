// The whole run of a wrapped command, every stage wired in order (pipeline.cpp
// is the one place to read the data flow from):
//
//   spool + flight-recorder recovery of abandoned runs
//   → spawn the child (env hints, stdout/stderr pipes)
//   → Pump (passthrough to crashwrap's own stdout/stderr)
//   → LineSplitter → { OutputTail, FlightRecorder, Registry → Verdict }
//   → Supervisor (signals, reaping) → exit classification (CgroupProbe evidence)
//   → event builder → Spool → Sender (the one extra thread) → summary line.
//
// The main thread runs one boost::asio::io_context for the whole run; the
// sender thread is started and joined here through sinks::Sender.
#pragma once

#include "config/config.h"

namespace crashwrap::agent {

struct RunOutcome {
  bool spawned = false;   // the command ran; otherwise `exit_code` is 127 or 126
  int exit_code = 0;
  int wait_status = 0;    // the main child's raw wait status (when spawned)
  bool pid1 = false;      // crashwrap is PID 1 (exit 128+n instead of re-raising)
};

// Runs config.argv under crashwrap and returns when the child has ended, its
// output is drained, its events are saved and the sender has had up to
// --flush-timeout to deliver them. Never throws (std::bad_alloc aside); every
// problem other than a command that cannot be run is a diag line and the app
// still runs. Main thread only, once per process.
RunOutcome run_pipeline(const config::Config& config, char** envp);

}  // namespace crashwrap::agent
