#include "sinks/sender.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "agent/diag.h"
#include "config/dsn.h"
#include "sinks/background_thread.h"
#include "sinks/curl_transport.h"
#include "sinks/dispatcher.h"
#include "sinks/spool.h"

namespace crashwrap::sinks {

using parsers::Timestamp;
using std::chrono::milliseconds;

struct Sender::Impl {
  config::Config config;
  std::string spool_dir;
  std::vector<config::Dsn> dsns;  // the usable ones
  std::size_t bad_dsns = 0;

  std::thread thread;
  std::mutex mu;
  std::condition_variable idle_cv;
  bool running = false;
  bool stopping = false;
  // wake() and the first flush() after it bump the generation; a turn that
  // starts at generation g and ends idle proves everything up to g was seen.
  std::uint64_t generation = 1;          // 1: the first turn scans the spool
  std::uint64_t seen_generation = 0;     // generation the loop has picked up
  std::uint64_t idle_generation = 0;     // generation of the last idle turn
  std::optional<Timestamp> idle_next_due;
  bool reports_requested = false;        // flush() since the last wake(): send client reports
  bool reports_pending = false;          // … not yet handed to the dispatcher
  Dispatcher* dispatcher = nullptr;      // while the thread runs; for wake()

  std::unique_ptr<Dispatcher> make_dispatcher(bool one_shot);
  void loop(Dispatcher& d);
  bool settled_locked(Timestamp end_wall) const {
    return idle_generation >= generation && (!idle_next_due || *idle_next_due > end_wall);
  }
};

namespace {

milliseconds until(Timestamp t, Timestamp now) {
  if (t <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(t - now);
}

}  // namespace

Sender::Sender(const config::Config& config, const std::string& spool_dir)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->spool_dir = spool_dir;
  for (const std::string& raw : config.dsns) {
    std::string error;
    if (auto dsn = config::parse_dsn(raw, error)) {
      // The same DSN twice is one destination, not two deliveries.
      bool seen = std::any_of(impl_->dsns.begin(), impl_->dsns.end(),
                              [&](const config::Dsn& d) { return d.raw == dsn->raw; });
      if (!seen) impl_->dsns.push_back(std::move(*dsn));
    } else {
      ++impl_->bad_dsns;
      agent::diag::dsn_unusable(config::redact_dsn(raw), error);
    }
  }
}

Sender::~Sender() { stop(); }

std::unique_ptr<Dispatcher> Sender::Impl::make_dispatcher(bool one_shot) {
  if (dsns.empty()) return nullptr;
  SpoolOptions o;
  o.dir = spool_dir;
  o.max_bytes = config.spool_max_bytes;
  o.max_files = config.spool_max_files;
  o.limits.envelope_max_bytes = config.envelope_max_bytes;
  o.limits.attachment_max_bytes = config.attachment_max_bytes;
  for (const auto& d : dsns) o.dsns.push_back(d.raw);
  std::string error;
  std::optional<Spool> spool = Spool::open(std::move(o), error);
  if (!spool) return nullptr;  // the event loop has said so already
  spool->reclaim_stale();
  DispatchOptions opts;
  opts.compression = config.compression;
  opts.one_shot = one_shot;
  return std::make_unique<Dispatcher>(std::move(*spool), dsns, make_transport(config, dsns.size()), opts);
}

void Sender::start() {
  Impl& s = *impl_;
  if (s.running || s.dsns.empty()) return;
  // Built here, not in the thread, so start() knows whether there is work.
  std::unique_ptr<Dispatcher> dispatcher = s.make_dispatcher(false);
  if (!dispatcher) return;
  s.running = true;
  s.stopping = false;
  s.dispatcher = dispatcher.get();
  s.thread = start_background_thread("cw-sender", [&s, d = std::move(dispatcher)]() mutable {
    s.loop(*d);
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.dispatcher = nullptr;
    }
    d.reset();  // libcurl is cleaned up on the thread that used it
  });
}

void Sender::Impl::loop(Dispatcher& d) {
  for (;;) {
    std::uint64_t turn_generation;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return;
      if (generation != seen_generation) d.rescan();
      if (reports_pending) d.report_now();
      reports_pending = false;
      turn_generation = seen_generation = generation;
    }
    Timestamp now = parsers::Clock::now();
    d.pump(now);
    milliseconds timeout(10000);
    if (d.idle()) {
      std::optional<Timestamp> due = d.next_due();
      {
        std::lock_guard<std::mutex> lock(mu);
        idle_generation = turn_generation;
        idle_next_due = due;
      }
      idle_cv.notify_all();
      if (due) timeout = std::clamp(until(*due, now), milliseconds(20), timeout);
    } else {
      timeout = milliseconds(1000);
    }
    d.wait(timeout);
  }
}

void Sender::wake() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.generation;
  s.reports_requested = false;
  if (s.dispatcher) s.dispatcher->wake();
}

bool Sender::flush(milliseconds deadline) {
  Impl& s = *impl_;
  if (!s.running) return true;
  return settled(std::chrono::steady_clock::now() + deadline, deadline > milliseconds(0));
}

bool Sender::settled(std::chrono::steady_clock::time_point deadline) { return settled(deadline, false); }

bool Sender::settled(std::chrono::steady_clock::time_point deadline, bool wait) {
  Impl& s = *impl_;
  if (!s.running) return true;
  const auto now = std::chrono::steady_clock::now();
  const Timestamp end_wall =
      parsers::Clock::now() + std::chrono::duration_cast<milliseconds>(std::max(deadline, now) - now);
  std::unique_lock<std::mutex> lock(s.mu);
  if (!s.reports_requested) {
    // Once per flush: counts waiting for a carrier go out on their own.
    s.reports_requested = s.reports_pending = true;
    ++s.generation;
    if (s.dispatcher) s.dispatcher->wake();
  }
  if (wait) s.idle_cv.wait_until(lock, deadline, [&] { return s.settled_locked(end_wall); });
  return s.settled_locked(end_wall);
}

void Sender::stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
    if (s.dispatcher) s.dispatcher->wake();
  }
  if (s.thread.joinable()) s.thread.join();
  s.running = false;
}

SendSummary Sender::send_all(milliseconds deadline, bool progress) {
  Impl& s = *impl_;
  SendSummary summary;
  summary.bad_dsns = s.bad_dsns;
  std::unique_ptr<Dispatcher> d = s.make_dispatcher(true);
  if (!d) {
    agent::diag::send_summary(0, 0, 0, s.dsns.empty() ? "no usable DSN" : "the spool cannot be opened");
    return summary;
  }
  auto end = std::chrono::steady_clock::now() + deadline;
  std::size_t shown = static_cast<std::size_t>(-1);
  d->report_now();
  for (;;) {
    d->pump(parsers::Clock::now());
    if (d->idle()) break;
    auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
    if (left <= milliseconds(0)) break;
    d->wait(std::min(left, milliseconds(1000)));
    std::size_t done = d->counts().sent + d->counts().dropped + d->counts().retried;
    if (progress && done != shown && d->scanned() > 0) {
      agent::diag::send_progress(std::min(done, d->scanned()), d->scanned(), false);
      shown = done;
    }
  }
  if (shown != static_cast<std::size_t>(-1)) agent::diag::send_progress(shown, d->scanned(), true);
  const DispatchCounts& c = d->counts();
  summary.sent = c.sent;
  summary.dropped = c.dropped;
  std::size_t left = d->left();
  summary.deferred = left;
  summary.spool_empty = left == 0 && summary.bad_dsns == 0;
  agent::diag::send_summary(c.sent, c.dropped, left, c.last_error);
  return summary;
}

}  // namespace crashwrap::sinks
