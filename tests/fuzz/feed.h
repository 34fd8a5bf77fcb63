// Feeds arbitrary bytes to a Registry of every detector the way the agent
// does (LF-split lines, CR stripped, 16 KiB analysis cap, two streams,
// quiet-timeout flushes, EOF) and checks that what comes out stays within
// the documented caps. Shared by the seeded driver and the libFuzzer target.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crashwrap::fuzz {

struct FeedOptions {
  std::uint64_t seed = 0;          // decides stream interleaving and flush points
  bool interleave = true;          // lines alternate between stdout and stderr by the seed
  std::size_t line_cap = 16 * 1024;
};

struct FeedStats {
  std::size_t lines = 0;
  std::size_t reports = 0;
  std::chrono::nanoseconds elapsed{0};
};

// nullopt when every bound held; otherwise one line naming the violated bound.
std::optional<std::string> feed_and_check(std::string_view input, const FeedOptions& options, FeedStats& stats);

}  // namespace crashwrap::fuzz
