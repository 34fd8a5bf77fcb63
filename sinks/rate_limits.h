// Server rate limits for one DSN, per data category.
//
// Sources, per Sentry's "Rate Limiting" SDK docs and Relay:
// - `X-Sentry-Rate-Limits: retry_after:categories:scope:reason[:namespaces], …`
//   (any status, 2xx included). `categories` is a `;` list; empty = every
//   category. `retry_after` is seconds (may carry a fraction).
// - Without that header, a 429's `Retry-After` (seconds or an HTTP date;
//   60 s when absent or unreadable) limits every category.
// A limit never shortens an existing one.
//
// Policies take the clock as an argument; a clock that jumps backwards
// shortens a limit to at most its original length from the new "now".
// Not thread-safe: owned by the sender thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "parsers/model.h"

namespace crashwrap::sinks {

using Timestamp = parsers::Timestamp;

// The rate-limit data category of an envelope item type ("event" → "error",
// "check_in" → "monitor", "log" → "log_item", "client_report" → "internal", …);
// unknown types map to themselves.
std::string_view item_category(std::string_view item_type) noexcept;

class RateLimits {
 public:
  // Applies a response's headers. `retry_after` and `sentry_rate_limits` are
  // the raw header values ("" when absent).
  void update(long status, std::string_view retry_after, std::string_view sentry_rate_limits,
              Timestamp now);

  // True while `category` (or every category) is limited at `now`.
  bool is_limited(std::string_view category, Timestamp now);
  // When the limit on `category` ends; nullopt when it is not limited.
  std::optional<Timestamp> limited_until(std::string_view category, Timestamp now);
  // The earliest end of any limit still in force; nullopt when none is.
  std::optional<Timestamp> next_expiry(Timestamp now);
  bool empty(Timestamp now);
  // Takes every limit of `other` that ends later than ours (another process
  // sharing the spool may have learnt a limit).
  void merge(const RateLimits& other);

  // Persistence (the spool's state area): one "category until_ms length_ms"
  // line per limit, "*" for every category. parse() skips lines it cannot read.
  std::string serialize() const;
  static RateLimits parse(std::string_view text);

 private:
  struct Limit {
    Timestamp until{};
    std::chrono::milliseconds length{0};
  };
  void limit(const std::string& category, std::chrono::milliseconds length, Timestamp now);
  void expire(Timestamp now);

  std::map<std::string, Limit, std::less<>> limits_;  // "" = every category
};

// Retry-After value in milliseconds: delta-seconds or an HTTP date relative
// to `now`; nullopt when unreadable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Timestamp now);

}  // namespace crashwrap::sinks
