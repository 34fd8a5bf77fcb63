// Secret scrubbing: everything crashwrap keeps of the child's output (event
// JSON, attachments, the flight recorder's tail, forwarded logs) goes through a
// Scrubber before it touches disk. What the child prints to crashwrap's own
// stdout/stderr is never altered: scrubbing works on the analysis copies only.
//
// Built-in rules replace the secret value with "[Filtered]" (Sentry's data
// scrubbers' marker) and keep the key, so the text still reads:
//   - URL userinfo, DSN keys included: https://KEY:SECRET@host → https://[Filtered]@host
//   - Authorization: / Proxy-Authorization: header values → "Authorization: [Filtered]"
//   - password, passwd, pwd, token, secret, api_key, apikey, access_token,
//     client_secret (case-insensitive) in key=value, key: value and
//     "key":"value" forms → the value only
//   - AWS access key ids (AKIA|ASIA + 16 of [A-Z0-9]); the value after
//     aws_secret_access_key
//   - private keys: "-----BEGIN … PRIVATE KEY-----" up to its END marker (or the
//     end of the text)
//   - card-like numbers: 13–19 digits, single spaces/dashes between them,
//     passing the Luhn check
// User patterns (--scrub-pattern, ECMAScript std::regex) replace each whole
// match. They are validated when the configuration loads (config/options); one
// that does not compile is left out with one warning.
//
// Cost: a line without any trigger byte (':', '=', '@', '-', a digit run, or
// the letters of "AKIA"/"ASIA") is rejected by a single scan without
// allocating; std::regex runs only when user patterns are configured.
//
// Threads: a Scrubber is immutable after from(); any thread may use it.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace crashwrap::sinks {

struct BuiltEvent;  // sinks/event_builder.h

inline constexpr std::string_view kFiltered = "[Filtered]";

class Scrubber {
 public:
  // Disabled by --no-scrub; user patterns from config.scrub_patterns (those
  // that do not compile are skipped: config loading already warned).
  static Scrubber from(const config::Config& config);
  // A scrubber with the built-in rules and the given user patterns (tests).
  static Scrubber with_patterns(const std::vector<std::string>& patterns, bool enabled = true);

  bool enabled() const noexcept { return enabled_; }

  // Replaces secrets in `text` in place. true when something was replaced.
  bool scrub(std::string& text) const;
  // Whether scrub() would change `text` (no copy, no allocation on a clean
  // line without user patterns).
  bool has_secrets(std::string_view text) const;
  // Every string inside `value` (object keys are kept as they are).
  void scrub_json(nlohmann::json& value) const;
  // The event JSON and every attachment's data (output tail, hs_err files, …).
  void scrub_event(BuiltEvent& event) const;

 private:
  bool enabled_ = true;
  std::shared_ptr<const std::vector<std::regex>> patterns_;
};

}  // namespace crashwrap::sinks
