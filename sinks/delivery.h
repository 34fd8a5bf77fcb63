// What to do with an envelope after one attempt to send it, and when to try
// again. Pure policy (Crashpad's upload result is the model): the clock and
// the randomness are arguments. Callable from any thread.
//
//   2xx                         → Sent
//   429                         → Retry (after the rate limit it announces)
//   413, other 4xx              → Drop  (counted as a client report `send_error`)
//   5xx, 1xx/3xx, no response   → Retry (exponential backoff with jitter)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "sinks/transport.h"

namespace crashwrap::sinks {

enum class Delivery : std::uint8_t { Sent, Retry, Drop };
std::string_view delivery_name(Delivery d) noexcept;  // "sent" | "retry" | "drop"

Delivery classify(const Response& response) noexcept;

// One phrase for records and messages: "HTTP 413", "HTTP 503",
// "connect: Connection refused", …
std::string describe(const Response& response);

// True when the failure says nothing about the envelope but everything about
// the way to the server (no HTTP status): the DSN as a whole backs off.
bool is_connection_failure(const Response& response) noexcept;

// Delay before attempt `failures + 1`, given `failures` failed attempts so far
// (≥ 1). `jitter` in [0, 1) picks a point in the upper half of the window:
// failures=1 → 0.5–1 s, then doubling, capped at 5 min.
std::chrono::milliseconds backoff(std::uint32_t failures, double jitter) noexcept;

inline constexpr std::chrono::milliseconds kFirstRetry{1000};
inline constexpr std::chrono::milliseconds kMaxBackoff{5 * 60 * 1000};

}  // namespace crashwrap::sinks
