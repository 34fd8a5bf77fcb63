// Saves envelopes on a thread of its own ("cw-logs"), so compressing and
// writing a batch of logs never stalls the event loop that passes the child's
// output through.
//
// Bounded: while more than `max_queued_bytes` wait, push() refuses the batch
// and the caller counts it dropped (logs are the first thing to give way under
// pressure; crash events never go through here). The thread starts with the
// first push, takes no signals, and is joined by the destructor after the
// queue is empty. drain() waits until everything pushed so far was saved.
//
// Threads: push() and drain() from one thread (the event loop); `save` runs
// on the saver thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace crashwrap::sinks {

class BackgroundSaver {
 public:
  using Save = std::function<void(std::string_view envelope, std::size_t items)>;

  BackgroundSaver(Save save, std::size_t max_queued_bytes);
  ~BackgroundSaver();
  BackgroundSaver(const BackgroundSaver&) = delete;
  BackgroundSaver& operator=(const BackgroundSaver&) = delete;

  // Queues one envelope; false (nothing queued) when the bound is reached.
  bool push(std::string envelope, std::size_t items);
  // Blocks until every envelope pushed so far has been saved.
  void drain();

 private:
  struct Job {
    std::string envelope;
    std::size_t items = 0;
  };
  void run();

  Save save_;
  const std::size_t max_queued_bytes_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Job> queue_;
  std::size_t queued_bytes_ = 0;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace crashwrap::sinks
