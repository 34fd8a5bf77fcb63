#include "sinks/delivery.h"

#include <algorithm>

namespace crashwrap::sinks {

std::string_view delivery_name(Delivery d) noexcept {
  switch (d) {
    case Delivery::Sent: return "sent";
    case Delivery::Retry: return "retry";
    case Delivery::Drop: return "drop";
  }
  return "retry";
}

Delivery classify(const Response& r) noexcept {
  if (r.error != TransportError::None) return Delivery::Retry;
  if (r.status >= 200 && r.status < 300) return Delivery::Sent;
  if (r.status == 429) return Delivery::Retry;
  // The server read the envelope and refused it for good (too large,
  // malformed, unknown project, bad key): sending it again changes nothing.
  if (r.status >= 400 && r.status < 500) return Delivery::Drop;
  return Delivery::Retry;
}

std::string describe(const Response& r) {
  if (r.error == TransportError::None) return "HTTP " + std::to_string(r.status);
  std::string s(transport_error_name(r.error));
  if (!r.detail.empty()) {
    s += ": ";
    s += r.detail;
  }
  return s;
}

bool is_connection_failure(const Response& r) noexcept {
  return r.error != TransportError::None;
}

std::chrono::milliseconds backoff(std::uint32_t failures, double jitter) noexcept {
  if (failures < 1) failures = 1;
  jitter = std::clamp(jitter, 0.0, 1.0);
  long long window = kFirstRetry.count();
  for (std::uint32_t i = 1; i < failures && window < kMaxBackoff.count(); ++i) window *= 2;
  window = std::min<long long>(window, kMaxBackoff.count());
  // "Equal jitter": never sooner than half the window, so a crowd of agents
  // that failed together spreads out without retrying immediately.
  auto half = window / 2;
  return std::chrono::milliseconds(half + static_cast<long long>(jitter * static_cast<double>(window - half)));
}

}  // namespace crashwrap::sinks
