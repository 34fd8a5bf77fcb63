// The one sender thread: delivers what the spool holds to every configured DSN.
//
// The main thread and the sender meet only at the spool (files on disk) plus a
// wake-up: the event loop saves an envelope through Spool::save, then calls
// wake(). The sender thread ("cw-sender") owns libcurl and the send side of
// the spool. For each DSN independently it claims a deliverable entry, sends
// it, and marks it sent / retry-at / dropped; DSNs are served round-robin one
// envelope per turn, each with its own rate limits, backoff and (short)
// connect timeout, so one dead DSN never delays another.
//
// Nothing throws out of this class. A malformed DSN is one diag line; events
// stay in the spool for a later start or `crashwrap send`.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "config/config.h"

namespace crashwrap::sinks {

// What a one-shot pass (`crashwrap send`) did, for the summary line.
struct SendSummary {
  std::size_t sent = 0;       // envelopes accepted (2xx), counted per DSN
  std::size_t dropped = 0;    // rejected for good (413 / other 4xx / unreadable), per DSN
  std::size_t deferred = 0;   // still in the spool: retry later, rate-limited, network down
  std::size_t bad_dsns = 0;   // configured DSNs that did not parse
  bool spool_empty = false;   // nothing left to deliver to any DSN
};

class Sender {
 public:
  // Reads the DSNs, transport options and bounds from `config`; `spool_dir`
  // is the spool every envelope comes from. Cheap: no thread, no I/O yet.
  Sender(const config::Config& config, const std::string& spool_dir);
  ~Sender();  // stop()s if still running
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Starts the sender thread. No-op when no DSN is configured or when every
  // DSN is malformed (each malformed DSN printed once). Main thread only.
  void start();

  // A file landed in the spool: deliver it now rather than at the next
  // scheduled retry. Any thread; never blocks.
  void wake();

  // Waits until the sender has settled — nothing in flight, and nothing
  // deliverable now or before the deadline (a 5xx's first retry, ≤ 1 s away,
  // is waited for; a retry or rate limit further out is not) — or `deadline`
  // has passed. Returns true when settled. Entries left waiting stay in the
  // spool for the next start or `crashwrap send`. Client-report counts with
  // no envelope to ride along go out on their own during a flush.
  // 0 = don't wait. Main thread only; true at once when the thread is not running.
  bool flush(std::chrono::milliseconds deadline);

  // The non-blocking form for an event loop that keeps servicing signals
  // while it waits: true once settled with respect to `deadline` (as above).
  // Poll it (e.g. every 20 ms) until true or the deadline passes.
  bool settled(std::chrono::steady_clock::time_point deadline);

  // Asks the thread to finish its current request and joins it. An envelope
  // being sent at that moment stays in the spool (at-least-once). Idempotent.
  void stop();

  // One-shot mode for `crashwrap send`: runs on the calling thread (no extra
  // thread), ignores backoff times (a manual send retries now) but honours
  // server rate limits, until every DSN has nothing deliverable or `deadline`
  // passes. With `progress`, a one-line progress counter is redrawn on
  // stderr (for a tty). Prints a summary line. Must not be combined with
  // start() on the same object.
  SendSummary send_all(std::chrono::milliseconds deadline, bool progress);

 private:
  bool settled(std::chrono::steady_clock::time_point deadline, bool wait);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crashwrap::sinks
