#include "sinks/transport.h"

#include "sinks/compression.h"
#include "sinks/envelope.h"

namespace crashwrap::sinks {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

std::string_view transport_error_name(TransportError e) noexcept {
  switch (e) {
    case TransportError::None: return "none";
    case TransportError::Timeout: return "timeout";
    case TransportError::Connect: return "connect";
    case TransportError::Resolve: return "resolve";
    case TransportError::Tls: return "tls";
    case TransportError::Network: return "network";
    case TransportError::Other: return "other";
  }
  return "other";
}

std::string client_name() { return std::string("crashwrap/") + CRASHWRAP_VERSION; }

std::string auth_header(const config::Dsn& dsn) {
  std::string v = "Sentry sentry_version=7, sentry_client=";
  v += client_name();
  v += ", sentry_key=";
  v += dsn.public_key;
  if (!dsn.secret.empty()) {
    v += ", sentry_secret=";
    v += dsn.secret;
  }
  return v;
}

std::optional<Request> prepare_request(std::string_view envelope, const config::Dsn& dsn,
                                       config::Compression compression,
                                       parsers::Timestamp sent_at) {
  std::optional<std::string> stamped = rewrite_header(envelope, sent_at, dsn.raw);
  if (!stamped) return std::nullopt;

  Request r;
  r.url = dsn.envelope_url();
  r.headers = {{"X-Sentry-Auth", auth_header(dsn)},
               {"Content-Type", "application/x-sentry-envelope"},
               {"User-Agent", client_name()}};
  Codec codec = codec_for(compression);
  std::optional<std::string> packed;
  if (codec != Codec::None) packed = compress(*stamped, codec);
  if (packed) {
    // Content-Encoding only when the body really is compressed: a failed
    // compression (out of memory) still sends the plain envelope.
    r.headers.emplace_back("Content-Encoding", std::string(content_encoding(codec)));
    r.body = std::move(*packed);
  } else {
    r.body = std::move(*stamped);
  }
  return r;
}

}  // namespace crashwrap::sinks
