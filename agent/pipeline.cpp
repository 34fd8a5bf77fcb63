#include "agent/pipeline.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/cgroup_probe.h"
#include "agent/diag.h"
#include "agent/env_hints.h"
#include "agent/flight_recorder.h"
#include "agent/line_splitter.h"
#include "agent/output_tail.h"
#include "agent/pump.h"
#include "agent/restart_policy.h"
#include "agent/run_health.h"
#include "agent/spawn.h"
#include "agent/supervisor.h"
#include "parsers/exit_classifier.h"
#include "parsers/registry.h"
#include "parsers/verdict.h"
#include "sinks/event_builder.h"
#include "sinks/protection.h"
#include "sinks/log_batcher.h"
#include "sinks/sender.h"
#include "sinks/spool.h"

namespace crashwrap::agent {
namespace {

using namespace std::chrono_literals;
using parsers::Clock;
using parsers::CrashReport;
using parsers::Timestamp;

constexpr auto kTick = 200ms;        // detector quiet flush, verdict deadlines, RSS sample
constexpr auto kFlushPoll = 20ms;    // how often the end of the run looks at the sender

// fds 0-2 must be open before crashwrap opens anything, or a pipe could land
// on fd 1 and receive crashwrap's passthrough of itself.
void ensure_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null >= 0 && null != fd) {
        ::dup2(null, fd);
        ::close(null);
      }
    }
  }
}

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

SupervisorOptions supervisor_options(const config::Config& c) {
  return SupervisorOptions{c.group, c.stop_signal, c.kill_after, c.group_term_grace};
}

class Pipeline {
 public:
  Pipeline(const config::Config& config, char** envp)
      : cfg_(config),
        envp_(envp),
        supervisor_(io_, supervisor_options(config)),
        verdict_(config.report_exit_grace),
        tail_(config.tail_lines, config.tail_bytes),
        out_lines_(parsers::Stream::Stdout, config.max_line_bytes),
        err_lines_(parsers::Stream::Stderr, config.max_line_bytes),
        sender_(config, config.spool_dir),
        tick_(io_),
        flush_timer_(io_),
        restart_(config),
        restart_timer_(io_) {}

  RunOutcome run();

 private:
  void open_spool();
  void recover_abandoned_runs();
  void create_registry();
  bool spawn_child(RunOutcome& outcome);  // launch_child + attach_child
  bool launch_child(RunOutcome& outcome);
  void attach_child();
  void start_pump(std::unique_ptr<Pump>& pump, parsers::Stream stream, int child_fd);
  void on_data(parsers::Stream stream, std::string_view bytes, Timestamp now);
  void on_line(const parsers::Line& line);
  void take_reports(Timestamp now);
  void arm_tick();
  void on_tick();
  void on_child_exit(int wait_status);
  void maybe_finish();
  std::optional<std::chrono::milliseconds> next_restart();
  void wait_restart(std::chrono::steady_clock::time_point at);
  void start_lifetime();
  void report_end();
  sinks::SessionEnd session_end(bool unhandled_crash) const;
  void flush_sender(std::chrono::steady_clock::time_point deadline);
  sinks::RunFacts facts(bool running) const;
  std::optional<std::string> save(const sinks::BuiltEvent& event, std::vector<sinks::EnvelopeItem> extra = {});
  void save_handled(sinks::BuiltEvent event);

  const config::Config& cfg_;
  char** envp_;
  boost::asio::io_context io_;
  Supervisor supervisor_;
  std::optional<sinks::Spool> spool_;
  std::optional<FlightRecorder> recorder_;
  std::optional<parsers::Registry> registry_;
  parsers::Verdict verdict_;
  OutputTail tail_;
  LineSplitter out_lines_, err_lines_;
  LineSplitter::Sink line_sink_ = [this](const parsers::Line& l) { on_line(l); };
  std::unique_ptr<Pump> out_pump_, err_pump_;
  CgroupProbe cgroup_;
  std::vector<parsers::OomCounter> oom_before_;
  std::optional<std::uint64_t> last_rss_;
  sinks::Sender sender_;
  sinks::Protection protection_{cfg_};  // scrubbing, sampling, crash-loop limits
  std::unique_ptr<sinks::LogBatcher> logs_;  // --logs
  boost::asio::steady_timer tick_;
  boost::asio::steady_timer flush_timer_;
  std::vector<CrashReport> found_;
  pid_t child_ = -1;
  Timestamp started_{};
  std::chrono::steady_clock::time_point started_steady_{};
  std::optional<int> wait_status_;
  parsers::ExitInfo exit_;
  Timestamp ended_{};
  bool descendants_done_ = false;
  bool finishing_ = false;
  int last_wait_status_ = 0;      // of the latest child, for crashwrap's own exit
  int child_out_ = -1, child_err_ = -1;  // read ends between launch_child and attach_child
  RestartPolicy restart_;
  boost::asio::steady_timer restart_timer_;
  std::optional<RunHealth> health_;  // this lifetime's session and check-ins
};

RunOutcome Pipeline::run() {
  RunOutcome outcome;
  ensure_standard_fds();
  if (cfg_.argv.empty()) {
    diag::cannot_run("", "no command given");
    outcome.exit_code = 127;
    return outcome;
  }
  // The child first: its exec and dynamic loading overlap with the rest of
  // crashwrap's set-up below (on another core, or while we wait on I/O). Its
  // output waits in the pipes until the pumps start.
  cgroup_ = CgroupProbe::discover(0);
  supervisor_.install();  // before spawning: no SIGCHLD may be missed
  outcome.pid1 = supervisor_.pid1();
  if (!launch_child(outcome)) {
    open_spool();  // still report what an earlier, killed crashwrap left behind
    recover_abandoned_runs();
    if (recorder_) recorder_->remove();
    return outcome;
  }
  open_spool();
  recover_abandoned_runs();
  if (spool_) protection_.save_ended_windows(*spool_);
  create_registry();
  if (cfg_.logs && spool_) logs_ = sinks::spool_log_batcher(cfg_, 0, *spool_, [this] { sender_.wake(); });
  attach_child();
  sender_.start();
  arm_tick();
  io_.run();
  // The loop ended: last child reaped, output drained, events saved, sender flushed.
  sender_.stop();
  if (recorder_) recorder_->remove();
  outcome.wait_status = last_wait_status_;
  return outcome;
}

void Pipeline::open_spool() {
  std::string error;
  spool_ = sinks::Spool::open(cfg_, error);
  if (!spool_) {
    diag::spool_unavailable(error);
    return;
  }
  recorder_ = FlightRecorder::create(cfg_.spool_dir, cfg_.argv, cfg_.tail_bytes);
}

// Runs found "running" in the spool by a dead crashwrap: report each one now.
void Pipeline::recover_abandoned_runs() {
  if (!spool_) return;
  for (auto& run : FlightRecorder::recover(cfg_.spool_dir)) {
    sinks::RunFacts f;
    f.argv = run.argv;
    f.pid = run.child_pid;
    f.started = run.started;
    f.exit = classify_abandoned_run(run, read_oom_counters(0));
    f.tail = std::move(run.tail);
    f.abandoned = true;
    f.ended = run.last_update;
    const sinks::BuiltEvent event = sinks::build_event(cfg_, f, nullptr);
    std::vector<sinks::EnvelopeItem> extra;
    if (auto session = RunHealth::abandoned_session(cfg_, run)) extra.push_back(std::move(*session));
    const auto path = save(event, std::move(extra));
    diag::abandoned_run(run.argv.empty() ? "?" : basename_of(run.argv[0]), run.child_pid,
                        event.event_id, path ? &*path : nullptr);
  }
}

void Pipeline::create_registry() {
  std::string error;
  registry_ = parsers::Registry::create(cfg_.detectors, error);
  if (!registry_) {
    diag::detectors_rejected(error);
    registry_ = parsers::Registry::create({}, error);
  }
  registry_->set_in_app_rules(cfg_.in_app_include, cfg_.in_app_exclude);
}

bool Pipeline::spawn_child(RunOutcome& outcome) {
  if (!launch_child(outcome)) return false;
  attach_child();
  return true;
}

// Pipes, the OOM counters before the start, and the child itself.
bool Pipeline::launch_child(RunOutcome& outcome) {
  const char* path_env = std::getenv("PATH");
  SpawnRequest rq;
  rq.argv = cfg_.argv;
  rq.path_env = path_env ? path_env : "";
  rq.envp = child_environment(cfg_, envp_, resolve_command(rq.argv.at(0), rq.path_env));
  rq.new_group = cfg_.group;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    diag::cannot_run(rq.argv[0], std::strerror(errno));
    outcome.exit_code = 126;
    return false;
  }
  rq.stdout_fd = out[1];
  rq.stderr_fd = err[1];
  oom_before_ = cgroup_.read();
  const SpawnResult spawned = spawn(rq);
  started_ = Clock::now();
  started_steady_ = std::chrono::steady_clock::now();
  ::close(out[1]);
  ::close(err[1]);
  if (spawned.pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    diag::cannot_run(rq.argv[0], std::strerror(spawned.error));
    outcome.exit_code = exec_failure_exit_code(spawned.error);
    return false;
  }
  outcome.spawned = true;
  child_ = spawned.pid;
  child_out_ = out[0];
  child_err_ = err[0];
  return true;
}

// The running child's record, session, exit watch and output pumps.
void Pipeline::attach_child() {
  if (logs_) logs_->child_started(child_);
  if (recorder_) recorder_->child_started(child_, started_, oom_before_);
  health_.emplace(cfg_, spool_ ? &*spool_ : nullptr, recorder_ ? &*recorder_ : nullptr, [this] { sender_.wake(); });
  health_->started(started_);
  supervisor_.watch(child_, [this](int status) { on_child_exit(status); });
  start_pump(out_pump_, parsers::Stream::Stdout, std::exchange(child_out_, -1));
  start_pump(err_pump_, parsers::Stream::Stderr, std::exchange(child_err_, -1));
}

// Stage: child pipe → passthrough → lines.
void Pipeline::start_pump(std::unique_ptr<Pump>& pump, parsers::Stream stream, int child_fd) {
  const int own_fd = stream == parsers::Stream::Stdout ? STDOUT_FILENO : STDERR_FILENO;
  pump = std::make_unique<Pump>(
      io_, stream, child_fd, own_fd,
      [this, stream](std::string_view bytes, Timestamp now) { on_data(stream, bytes, now); },
      [this, stream] {
        (stream == parsers::Stream::Stdout ? out_lines_ : err_lines_).finish(line_sink_);
        maybe_finish();
      });
  pump->start();
}

void Pipeline::on_data(parsers::Stream stream, std::string_view bytes, Timestamp now) {
  (stream == parsers::Stream::Stdout ? out_lines_ : err_lines_).feed(bytes, now, line_sink_);
}

// Stage: each line → output tail, flight recorder, detectors.
void Pipeline::on_line(const parsers::Line& line) {
  const parsers::Line& kept = protection_.kept_line(line);  // secrets never reach the tail or the disk
  tail_.push(kept);
  if (recorder_) recorder_->on_line(kept);
  if (logs_) logs_->add(line);
  registry_->feed(line, found_);
  if (!found_.empty()) take_reports(line.time);
}

// Stage: finished crash reports → verdict.
void Pipeline::take_reports(Timestamp now) {
  for (auto& report : found_) verdict_.report_finished(std::move(report), now);
  found_.clear();
}

void Pipeline::arm_tick() {
  tick_.expires_after(kTick);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finishing_) return;
    on_tick();
    arm_tick();
  });
}

// While the child runs: end quiet trace blocks, report what the child outlived
// (a handled, logged error), sample the child's memory.
void Pipeline::on_tick() {
  const Timestamp now = Clock::now();
  registry_->flush(now, cfg_.detector_quiet, found_);
  take_reports(now);
  if (logs_) logs_->tick(now);
  if (supervisor_.child_running()) {
    if (auto rss = read_rss_bytes(child_)) last_rss_ = rss;
    if (health_) health_->tick(now);
  }
  for (auto& report : verdict_.due(now)) {
    if (!cfg_.report_logged) continue;
    save_handled(sinks::build_event(cfg_, facts(true), &report));
  }
}

// Stage: the child ended → exit classification, then drain and end the group.
void Pipeline::on_child_exit(int wait_status) {
  ended_ = Clock::now();
  wait_status_ = wait_status;
  last_wait_status_ = wait_status;
  parsers::ExitEvidence evidence;
  evidence.wait_status = wait_status;
  evidence.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_steady_);
  evidence.before = oom_before_;
  evidence.after = cgroup_.read();
  evidence.last_rss = last_rss_;
  exit_ = parsers::classify_exit(evidence);
  out_pump_->child_exited(cfg_.drain_grace);
  err_pump_->child_exited(cfg_.drain_grace);
  supervisor_.end_descendants([this] {
    descendants_done_ = true;
    maybe_finish();
  });
}

void Pipeline::maybe_finish() {
  if (finishing_ || !wait_status_ || !descendants_done_ || !out_pump_->finished() ||
      !err_pump_->finished()) {
    return;
  }
  finishing_ = true;
  tick_.cancel();
  report_end();
  if (logs_) logs_->flush(Clock::now());  // after the crash event: it never waits behind logs
  if (recorder_) recorder_->child_ended();
  if (auto delay = next_restart()) {
    wait_restart(std::chrono::steady_clock::now() + *delay);
    return;
  }
  flush_sender(std::chrono::steady_clock::now() + cfg_.flush_timeout);
}

// --restart: whether and when this lifetime gets a successor. A SIGTERM or
// SIGINT received at any time means the command is meant to stop.
std::optional<std::chrono::milliseconds> Pipeline::next_restart() {
  if (cfg_.restart == config::Restart::No || supervisor_.stop_requested()) return std::nullopt;
  const bool failed = !WIFEXITED(last_wait_status_) || WEXITSTATUS(last_wait_status_) != 0;
  auto delay = restart_.after_exit(failed, exit_.duration);
  if (delay) {
    diag::restarting(basename_of(cfg_.argv[0]), exit_.describe(), static_cast<double>(delay->count()) / 1000.0,
                     restart_.restarts_in_a_row(), cfg_.max_restarts);
  } else if (failed || cfg_.restart == config::Restart::Always) {
    diag::restarts_exhausted(basename_of(cfg_.argv[0]), restart_.restarts_in_a_row());
  }
  return delay;
}

// The restart delay, kept short by polling: a SIGTERM/SIGINT now ends crashwrap
// with the last child's status instead of starting another one.
void Pipeline::wait_restart(std::chrono::steady_clock::time_point at) {
  if (supervisor_.stop_requested()) {
    flush_sender(std::chrono::steady_clock::now() + cfg_.flush_timeout);
    return;
  }
  if (std::chrono::steady_clock::now() >= at) {
    start_lifetime();
    return;
  }
  restart_timer_.expires_after(std::min<std::chrono::steady_clock::duration>(kFlushPoll, at - std::chrono::steady_clock::now()));
  restart_timer_.async_wait([this, at](const boost::system::error_code& ec) {
    if (!ec) wait_restart(at);
  });
}

// A new lifetime of the child: everything about the previous one (output tail,
// verdict, detectors, line splitters, pumps, flight record, session) starts
// over; the supervisor, spool and sender stay.
void Pipeline::start_lifetime() {
  verdict_ = parsers::Verdict(cfg_.report_exit_grace);
  tail_ = OutputTail(cfg_.tail_lines, cfg_.tail_bytes);
  out_lines_ = LineSplitter(parsers::Stream::Stdout, cfg_.max_line_bytes);
  err_lines_ = LineSplitter(parsers::Stream::Stderr, cfg_.max_line_bytes);
  out_pump_.reset();
  err_pump_.reset();
  found_.clear();
  last_rss_.reset();
  wait_status_.reset();
  exit_ = parsers::ExitInfo{};
  ended_ = Timestamp{};
  descendants_done_ = false;
  finishing_ = false;
  health_.reset();
  create_registry();
  if (recorder_) {
    recorder_->remove();
    recorder_ = FlightRecorder::create(cfg_.spool_dir, cfg_.argv, cfg_.tail_bytes);
  }
  RunOutcome ignored;
  if (!spawn_child(ignored)) {  // the diag line is printed; exit with the last child's status
    flush_sender(std::chrono::steady_clock::now() + cfg_.flush_timeout);
    return;
  }
  arm_tick();
}

// Stage: the final reports and the exit → events → spool → summary line.
void Pipeline::report_end() {
  const Timestamp now = Clock::now();
  registry_->finish(found_);
  take_reports(now);
  std::vector<CrashReport> reports = verdict_.child_exited(exit_, now);
  const bool failed = parsers::Verdict::exit_failed(exit_);
  std::optional<sinks::BuiltEvent> fatal;
  const bool unhandled_crash = failed && !reports.empty();
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (failed && i + 1 == reports.size()) {
      fatal = sinks::build_event(cfg_, facts(false), &reports[i]);  // the crash + how it ended
    } else if (cfg_.report_logged) {
      save_handled(sinks::build_event(cfg_, facts(false), &reports[i]));
    }
  }
  if (!fatal && sinks::should_report(cfg_, exit_)) {
    fatal = sinks::build_event(cfg_, facts(false), nullptr);
  }
  // The session's final update travels with the fatal event (Sentry counts the
  // crash and the session together), or alone when there is none.
  std::optional<sinks::EnvelopeItem> update;
  if (health_) {
    if (fatal) health_->on_event(*fatal);
    update = health_->finish(session_end(unhandled_crash), now);
    if (update && !fatal) health_->save_alone(std::move(*update), now);
  }
  if (!fatal) return;
  std::vector<sinks::EnvelopeItem> extra;
  if (update) extra.push_back(*update);
  const auto path = save(*fatal, std::move(extra));
  // An event that was not saved (held back, or the spool refused it) must not
  // take the end of the session with it.
  if (!path && update && health_) health_->save_alone(std::move(*update), now);
  const double seconds = static_cast<double>(exit_.duration.count()) / 1000.0;
  if (!path && protection_.held_back(fatal->event_id)) {
    diag::run_summary_held_back(basename_of(cfg_.argv[0]), exit_.describe(), seconds, fatal->event_id,
                                cfg_.crash_loop_limit);
    return;
  }
  diag::run_summary(basename_of(cfg_.argv[0]), exit_.describe(), seconds, fatal->event_id,
                    path ? &*path : nullptr, cfg_.dsns.empty());
}

// Stage: give the sender up to --flush-timeout, keeping signals serviced; a
// SIGTERM/SIGINT now (the child is gone) ends the wait early.
void Pipeline::flush_sender(std::chrono::steady_clock::time_point deadline) {
  if (sender_.settled(deadline) || std::chrono::steady_clock::now() >= deadline ||
      supervisor_.interrupted()) {
    supervisor_.close();
    return;
  }
  flush_timer_.expires_after(kFlushPoll);
  flush_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
    if (ec) return;
    flush_sender(deadline);
  });
}

sinks::RunFacts Pipeline::facts(bool running) const {
  sinks::RunFacts f;
  f.argv = cfg_.argv;
  f.pid = child_;
  f.started = started_;
  f.tail = tail_.lines();
  f.running = running;
  if (!running) {
    f.exit = exit_;
    f.ended = ended_;
  }
  return f;
}

std::optional<std::string> Pipeline::save(const sinks::BuiltEvent& event, std::vector<sinks::EnvelopeItem> extra) {
  if (!spool_) return std::nullopt;
  const auto admitted = protection_.admit(event, *spool_);
  if (!admitted) return std::nullopt;
  auto path = spool_->save(*admitted, Clock::now(), std::move(extra));
  if (path) sender_.wake();
  return path;
}

// A handled error of this lifetime: it counts in the session and carries the check-in's trace.
void Pipeline::save_handled(sinks::BuiltEvent event) {
  if (health_) health_->on_event(event);
  save(event);
}

sinks::SessionEnd Pipeline::session_end(bool unhandled_crash) const {
  sinks::SessionEnd end;
  end.exit = exit_;
  end.ignored_exit_code = exit_.kind == parsers::ExitKind::ErrorExit && cfg_.ignore_exit_codes.count(exit_.code) != 0;
  end.unhandled_crash = unhandled_crash;
  end.stop_requested = supervisor_.stop_requested();
  return end;
}

}  // namespace

RunOutcome run_pipeline(const config::Config& config, char** envp) {
  Pipeline pipeline(config, envp);
  return pipeline.run();
}

}  // namespace crashwrap::agent
