// Starting crashwrap's own worker threads (the sender, the log saver): each is
// named for ps/top and starts with every signal blocked, so that signals meant
// for the child reach only the event loop's signal_set.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace crashwrap::sinks {

// Blocks every signal in the calling thread for its lifetime; a thread
// started meanwhile inherits the mask.
class BlockAllSignals {
 public:
  BlockAllSignals() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~BlockAllSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockAllSignals(const BlockAllSignals&) = delete;
  BlockAllSignals& operator=(const BlockAllSignals&) = delete;

 private:
  sigset_t old_;
};

// `body` on a new thread called `name` (at most 15 characters) that takes no signals.
template <typename F>
std::thread start_background_thread(const char* name, F&& body) {
  BlockAllSignals blocked;
  return std::thread([name, body = std::forward<F>(body)]() mutable {
    pthread_setname_np(pthread_self(), name);
    body();
  });
}

}  // namespace crashwrap::sinks
