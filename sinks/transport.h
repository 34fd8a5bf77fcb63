// The HTTP request for one envelope, and what came back — as plain values.
//
// prepare_request() is pure (sentry-native's model): it builds the method,
// URL, headers and (compressed) body of a Sentry envelope submission; a
// Transport (sinks/curl_transport.h) only executes it. Callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/dsn.h"
#include "parsers/model.h"

namespace crashwrap::sinks {

struct Request {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // in sending order
  std::string body;

  // The value of header `name` (ASCII case-insensitive); "" when absent.
  std::string_view header(std::string_view name) const;
};

// Why no HTTP status came back. Closed set; `None` means `status` is valid.
enum class TransportError : std::uint8_t {
  None,
  Timeout,   // connect or whole-request timeout
  Connect,   // refused, unreachable, reset while connecting
  Resolve,   // host (or proxy) name did not resolve
  Tls,       // handshake or certificate verification failed
  Network,   // connection lost while sending or receiving
  Other,     // anything else (the detail says what)
};
std::string_view transport_error_name(TransportError e) noexcept;  // "timeout", "connect", …

struct Response {
  TransportError error = TransportError::None;
  long status = 0;              // HTTP status when error == None
  std::string retry_after;      // raw `Retry-After` value, "" when absent
  std::string rate_limits;      // raw `X-Sentry-Rate-Limits` value, "" when absent
  std::string detail;           // human-readable cause of an error ("" on success)
};

// "crashwrap/<version>": sentry_client and User-Agent.
std::string client_name();

// `Sentry sentry_version=7, sentry_client=crashwrap/<version>, sentry_key=<key>`
// plus `, sentry_secret=<secret>` when the DSN has one.
std::string auth_header(const config::Dsn& dsn);

// The request delivering `envelope` (uncompressed bytes as stored in the
// spool) to `dsn`: the header's sent_at is set to `sent_at` and its dsn to
// dsn.raw; POST to dsn.envelope_url() with X-Sentry-Auth, Content-Type
// application/x-sentry-envelope, User-Agent, and Content-Encoding gzip|zstd
// for a compressed body (none: no Content-Encoding). nullopt when the
// envelope's first line is not a JSON object header.
std::optional<Request> prepare_request(std::string_view envelope, const config::Dsn& dsn,
                                       config::Compression compression,
                                       parsers::Timestamp sent_at);

}  // namespace crashwrap::sinks
