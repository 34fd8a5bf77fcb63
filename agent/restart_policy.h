// When to start the command again after it ended (--restart), and how long to
// wait first. Pure policy: the caller passes how long the lifetime ran.
//
//   no          never
//   on-failure  after a non-zero exit or a death by signal
//   always      after any end
// The first restart waits --restart-delay; each further restart in a row waits
// twice as long, up to 60 s. A lifetime that ran at least 60 s counts as
// healthy: the delay and the count of restarts in a row start over. After
// --max-restarts restarts in a row (0 = unlimited) the policy gives up.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "config/config.h"

namespace crashwrap::agent {

class RestartPolicy {
 public:
  static constexpr std::chrono::milliseconds kMaxDelay{60'000};
  static constexpr std::chrono::milliseconds kHealthyRun{60'000};

  RestartPolicy(config::Restart mode, std::size_t max_restarts, std::chrono::milliseconds initial_delay);
  explicit RestartPolicy(const config::Config& c)
      : RestartPolicy(c.restart, c.max_restarts, c.restart_delay) {}

  // A lifetime ended: `failed` when it exited non-zero or died of a signal,
  // `ran` is how long it ran. The delay before the next start, or nullopt to stop.
  std::optional<std::chrono::milliseconds> after_exit(bool failed, std::chrono::milliseconds ran);

  std::size_t restarts_in_a_row() const noexcept { return in_a_row_; }
  std::size_t restarts_total() const noexcept { return total_; }

 private:
  config::Restart mode_;
  std::size_t max_;
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds next_;
  std::size_t in_a_row_ = 0;
  std::size_t total_ = 0;
};

}  // namespace crashwrap::agent
