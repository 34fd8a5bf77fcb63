// The supervisor: crashwrap's duties as the parent (and possibly PID 1) of the
// app, in the manner of tini.
//   - One boost::asio::signal_set receives the forwarded signals and SIGCHLD;
//     no work is done in a signal handler.
//   - SIGTERM SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGWINCH SIGCONT are
//     forwarded to the main child, or to its process group with --group.
//     A received SIGTERM becomes --stop-signal; --kill-after sends SIGKILL when
//     the child outlives a forwarded SIGTERM by that long. Synchronous fault
//     signals (SEGV, BUS, FPE, ILL, TRAP, SYS, ABRT) are never forwarded.
//   - SIGPIPE, SIGTTIN and SIGTTOU are ignored by crashwrap itself (EPIPE is
//     handled where it happens; a background crashwrap may still write its tty).
//   - Not PID 1: crashwrap becomes a child subreaper, so orphaned descendants
//     are re-parented to it. Every child is reaped with waitpid(-1, WNOHANG);
//     the main child's status is handed to the exit handler, orphans are counted.
//   - With --group, after the main child ended, the remaining members of its
//     process group get SIGTERM, then SIGKILL after the grace period.
// Event loop only: every method runs on the thread that runs the io_context.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

namespace crashwrap::agent {

struct SupervisorOptions {
  bool group = false;                                   // signal the child's process group
  int stop_signal = 15;                                 // what a received SIGTERM becomes
  std::optional<std::chrono::milliseconds> kill_after;  // SIGKILL after a forwarded SIGTERM
  std::chrono::milliseconds group_term_grace{2000};     // TERM → KILL of leftover group members
};

class Supervisor {
 public:
  using ExitHandler = std::function<void(int wait_status)>;

  Supervisor(boost::asio::io_context& io, SupervisorOptions options);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Installs the signal set and the ignored signals, and becomes a subreaper
  // unless PID 1. Call before spawning, so no SIGCHLD is missed.
  void install();
  // The main child, right after it was spawned. `on_exit` runs once, on the
  // event loop, with its raw wait status when it has been reaped.
  void watch(pid_t child, ExitHandler on_exit);
  // After the main child ended: with --group, TERM its process group, wait up
  // to the grace period, KILL what is left; then `done`. Without --group, or
  // when the group is already empty, `done` runs at once.
  void end_descendants(std::function<void()> done);
  // Cancels the signal set and timers (end of the run). Signals that arrive
  // afterwards get their default action. Idempotent.
  void close();

  bool pid1() const noexcept { return pid1_; }
  bool subreaper() const noexcept { return subreaper_; }
  bool child_running() const noexcept { return child_ > 0 && !child_reaped_; }
  // A SIGTERM, SIGINT, SIGHUP or SIGQUIT arrived after the main child ended:
  // crashwrap should stop waiting (for the sender) and exit.
  bool interrupted() const noexcept { return interrupted_; }
  // A SIGTERM or SIGINT arrived at any time (forwarded when a child ran):
  // --restart stops starting the command again.
  bool stop_requested() const noexcept { return stop_requested_; }
  std::uint64_t orphans_reaped() const noexcept { return orphans_reaped_; }
  std::uint64_t signals_forwarded() const noexcept { return signals_forwarded_; }

  // The signals that are forwarded, in a stable order.
  static const std::vector<int>& forwarded_signals();

 private:
  void arm();
  void on_signal(int signo);
  void reap();
  void forward(int signo);
  void kill_after_expired();
  bool signal_child(int signo);
  bool group_alive() const;
  void finish_descendants();

  boost::asio::io_context& io_;
  SupervisorOptions options_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer kill_timer_;
  boost::asio::steady_timer group_timer_;
  bool pid1_ = false;
  bool subreaper_ = false;
  bool closed_ = false;
  bool kill_timer_armed_ = false;
  bool interrupted_ = false;
  bool stop_requested_ = false;
  pid_t child_ = -1;
  bool child_reaped_ = false;
  ExitHandler on_exit_;
  std::function<void()> descendants_done_;
  std::uint64_t orphans_reaped_ = 0;
  std::uint64_t signals_forwarded_ = 0;
};

// How crashwrap ends once the child has: exit with a code, or re-raise the
// child's fatal signal on itself.
struct ExitAction {
  enum class Kind { Exit, Raise } kind = Kind::Exit;
  int value = 0;  // exit code, or signal number
};

// Exit code N → N (or its --remap-exit value). Death by signal n → the remapped
// value of 128+n when one is configured, else 128+n as PID 1 (the kernel does
// not let PID 1 die of its own signal), else re-raise n. Pure.
ExitAction exit_action(int wait_status, const std::map<int, int>& remap, bool pid1);

// Ends crashwrap per exit_action: for Raise, sets RLIMIT_CORE to 0 (crashwrap
// itself never dumps core), restores the default disposition, unblocks and
// raises the signal; exits 128+n if that did not end the process. Call only
// when crashwrap has nothing left to do (sender stopped, output flushed).
[[noreturn]] void exit_like(int wait_status, const std::map<int, int>& remap, bool pid1);

}  // namespace crashwrap::agent
