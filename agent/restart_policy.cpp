#include "agent/restart_policy.h"

#include <algorithm>

namespace crashwrap::agent {

RestartPolicy::RestartPolicy(config::Restart mode, std::size_t max_restarts,
                             std::chrono::milliseconds initial_delay)
    : mode_(mode),
      max_(max_restarts),
      initial_(std::clamp(initial_delay, std::chrono::milliseconds(0), kMaxDelay)),
      next_(initial_) {}

std::optional<std::chrono::milliseconds> RestartPolicy::after_exit(bool failed, std::chrono::milliseconds ran) {
  if (mode_ == config::Restart::No) return std::nullopt;
  if (mode_ == config::Restart::OnFailure && !failed) return std::nullopt;
  if (ran >= kHealthyRun) {
    in_a_row_ = 0;
    next_ = initial_;
  }
  if (max_ != 0 && in_a_row_ >= max_) return std::nullopt;
  const std::chrono::milliseconds delay = next_;
  next_ = std::min(kMaxDelay, std::max(next_ * 2, std::chrono::milliseconds(1)));
  ++in_a_row_;
  ++total_;
  return delay;
}

}  // namespace crashwrap::agent
