// Finding the app's release when neither --release nor SENTRY_RELEASE names
// it: the commit that CI systems and hosting platforms put in the environment
// (the variables Sentry's own tools look at: sentry-cli's `releases
// propose-version`, @sentry/node's getSentryRelease). Pure; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crashwrap::config {

// Every variable looked at, in order of preference (documented in the README).
const std::vector<std::string_view>& release_variables();

struct DetectedRelease {
  std::string release;         // the value, trimmed
  std::string_view variable;   // where it was found
};

// The first of release_variables() set to a valid release name; nullopt when none.
std::optional<DetectedRelease> detect_release(const std::map<std::string, std::string>& env);

// Sentry's rules for a release name: 1-200 bytes, not "." or "..", no
// whitespace-only value, no newline, tab, '/' or '\'.
bool valid_release(std::string_view name);

}  // namespace crashwrap::config
