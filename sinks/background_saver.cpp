#include "sinks/background_saver.h"

#include "sinks/background_thread.h"

namespace crashwrap::sinks {

BackgroundSaver::BackgroundSaver(Save save, std::size_t max_queued_bytes)
    : save_(std::move(save)), max_queued_bytes_(max_queued_bytes) {}

BackgroundSaver::~BackgroundSaver() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool BackgroundSaver::push(std::string envelope, std::size_t items) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // One batch always fits, so a bound below a batch's size still saves logs.
    if (!queue_.empty() && queued_bytes_ + envelope.size() > max_queued_bytes_) return false;
    queued_bytes_ += envelope.size();
    queue_.push_back({std::move(envelope), items});
  }
  if (!thread_.joinable()) thread_ = start_background_thread("cw-logs", [this] { run(); });
  wake_.notify_one();
  return true;
}

void BackgroundSaver::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void BackgroundSaver::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything was saved
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    save_(job.envelope, job.items);
    lock.lock();
    queued_bytes_ -= job.envelope.size();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace crashwrap::sinks
