// Sentry DSN parsing: `scheme://PUBLIC_KEY[:SECRET]@host[:port][/path]/PROJECT_ID`.
// Pure functions, callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crashwrap::config {

struct Dsn {
  std::string raw;            // the text as given (trimmed of surrounding blanks)
  std::string scheme;         // "http" | "https"
  std::string public_key;
  std::string secret;         // "" when the DSN has none (legacy DSNs)
  std::string host;           // without brackets for IPv6 literals
  std::optional<int> port;    // nullopt = the scheme's default
  std::string path;           // "" or "/prefix" (no trailing slash)
  std::string project_id;     // digits only

  // scheme://host[:port][/path]/api/PROJECT_ID/envelope/
  std::string envelope_url() const;
  // host[:port] as it appears in URLs (IPv6 literals bracketed).
  std::string authority() const;
};

// Parses `text`. On failure returns nullopt and sets `error` to one phrase naming
// what is wrong, e.g. "the project id 'abc' is not a number" or "it has no public
// key (the part before '@')". The error never repeats the secret.
std::optional<Dsn> parse_dsn(std::string_view text, std::string& error);

// The DSN with its secret part masked, for messages and `crashwrap doctor`.
std::string redact_dsn(std::string_view text);

}  // namespace crashwrap::config
