#include "agent/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <boost/asio/post.hpp>

namespace crashwrap::agent {

const std::vector<int>& Supervisor::forwarded_signals() {
  static const std::vector<int> k{SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
                                  SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  return k;
}

Supervisor::Supervisor(boost::asio::io_context& io, SupervisorOptions options)
    : io_(io), options_(options), signals_(io), kill_timer_(io), group_timer_(io) {}

void Supervisor::install() {
  pid1_ = ::getpid() == 1;
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGTTIN, SIG_IGN);
  ::signal(SIGTTOU, SIG_IGN);
  // As PID 1 the kernel drops signals with default dispositions; handlers for
  // every forwarded signal make them arrive whatever our PID.
  boost::system::error_code ec;
  for (int s : forwarded_signals()) signals_.add(s, ec);
  signals_.add(SIGCHLD, ec);
  if (!pid1_) subreaper_ = ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
  arm();
}

void Supervisor::arm() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec || closed_) return;
    on_signal(signo);
    if (!closed_) arm();  // on_signal may have ended the run
  });
}

void Supervisor::watch(pid_t child, ExitHandler on_exit) {
  child_ = child;
  child_reaped_ = false;
  kill_timer_armed_ = false;  // --kill-after applies to each child anew
  on_exit_ = std::move(on_exit);
  // A child that ended before the handler was armed is still a zombie: reap now.
  boost::asio::post(io_, [this] { reap(); });
}

void Supervisor::on_signal(int signo) {
  if (signo == SIGCHLD) {
    reap();
  } else {
    forward(signo);
  }
}

void Supervisor::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;
    if (pid == child_ && !child_reaped_) {
      child_reaped_ = true;
      kill_timer_.cancel();
      if (on_exit_) {
        auto handler = std::move(on_exit_);
        on_exit_ = nullptr;
        handler(status);
      }
    } else {
      ++orphans_reaped_;
    }
  }
  if (descendants_done_ && !group_alive()) finish_descendants();
}

void Supervisor::forward(int signo) {
  if (signo == SIGTERM || signo == SIGINT) stop_requested_ = true;
  if (!child_running()) {
    if (child_reaped_ &&
        (signo == SIGTERM || signo == SIGINT || signo == SIGHUP || signo == SIGQUIT)) {
      interrupted_ = true;
    }
    return;
  }
  int sent = signo;
  if (signo == SIGTERM) sent = options_.stop_signal;
  if (signal_child(sent)) ++signals_forwarded_;
  if (signo == SIGTERM && options_.kill_after && !kill_timer_armed_) {
    kill_timer_armed_ = true;
    kill_timer_.expires_after(*options_.kill_after);
    kill_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) kill_after_expired();
    });
  }
}

void Supervisor::kill_after_expired() {
  if (child_running()) signal_child(SIGKILL);
}

bool Supervisor::signal_child(int signo) {
  // With --group the child's group; a child that left its group (setsid) still
  // gets the signal itself.
  if (options_.group && ::kill(-child_, signo) == 0) return true;
  return ::kill(child_, signo) == 0;
}

bool Supervisor::group_alive() const {
  return options_.group && child_ > 0 && ::kill(-child_, 0) == 0;
}

void Supervisor::end_descendants(std::function<void()> done) {
  if (!group_alive()) {
    done();
    return;
  }
  descendants_done_ = std::move(done);
  ::kill(-child_, SIGTERM);
  ::kill(-child_, SIGCONT);  // a stopped process cannot act on SIGTERM
  group_timer_.expires_after(options_.group_term_grace);
  group_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    ::kill(-child_, SIGKILL);
    finish_descendants();
  });
}

void Supervisor::finish_descendants() {
  group_timer_.cancel();
  if (auto done = std::move(descendants_done_)) {
    descendants_done_ = nullptr;
    done();
  }
}

void Supervisor::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  signals_.cancel(ec);
  signals_.clear(ec);
  kill_timer_.cancel();
  group_timer_.cancel();
}

ExitAction exit_action(int wait_status, const std::map<int, int>& remap, bool pid1) {
  auto remapped = [&remap](int code) -> std::optional<int> {
    auto it = remap.find(code);
    if (it == remap.end()) return std::nullopt;
    return it->second;
  };
  if (WIFSIGNALED(wait_status)) {
    const int signo = WTERMSIG(wait_status);
    if (auto code = remapped(128 + signo)) return {ExitAction::Kind::Exit, *code};
    if (pid1) return {ExitAction::Kind::Exit, 128 + signo};
    return {ExitAction::Kind::Raise, signo};
  }
  const int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1;
  return {ExitAction::Kind::Exit, remapped(code).value_or(code)};
}

void exit_like(int wait_status, const std::map<int, int>& remap, bool pid1) {
  const ExitAction action = exit_action(wait_status, remap, pid1);
  if (action.kind == ExitAction::Kind::Raise) {
    const int signo = action.value;
    struct rlimit no_core {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(signo, &sa, nullptr);
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, signo);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signo);
    // Still here: the signal's default action is not to terminate.
    ::_exit((128 + signo) & 0xff);
  }
  ::_exit(action.value & 0xff);
}

}  // namespace crashwrap::agent
