#include <catch2/catch.hpp>

#include "sinks/delivery.h"

using namespace crashwrap::sinks;
using namespace std::chrono_literals;

namespace {
Response http(long status) {
  Response r;
  r.status = status;
  return r;
}
Response failed(TransportError e, std::string detail = {}) {
  Response r;
  r.error = e;
  r.detail = std::move(detail);
  return r;
}
}  // namespace

TEST_CASE("2xx is sent", "[delivery]") {
  CHECK(classify(http(200)) == Delivery::Sent);
  CHECK(classify(http(202)) == Delivery::Sent);
  CHECK(classify(http(204)) == Delivery::Sent);
}

TEST_CASE("429 is retried later", "[delivery]") {
  CHECK(classify(http(429)) == Delivery::Retry);
}

TEST_CASE("413 and other 4xx are dropped", "[delivery]") {
  for (long s : {400L, 401L, 403L, 404L, 413L, 499L}) {
    INFO(s);
    CHECK(classify(http(s)) == Delivery::Drop);
  }
}

TEST_CASE("5xx, odd statuses and transport errors are retried", "[delivery]") {
  for (long s : {500L, 502L, 503L, 504L, 301L, 100L, 0L}) {
    INFO(s);
    CHECK(classify(http(s)) == Delivery::Retry);
  }
  for (auto e : {TransportError::Timeout, TransportError::Connect, TransportError::Resolve,
                 TransportError::Tls, TransportError::Network, TransportError::Other}) {
    CHECK(classify(failed(e)) == Delivery::Retry);
    CHECK(is_connection_failure(failed(e)));
  }
  CHECK_FALSE(is_connection_failure(http(503)));
}

TEST_CASE("describe names the status or the failure", "[delivery]") {
  CHECK(describe(http(413)) == "HTTP 413");
  CHECK(describe(failed(TransportError::Connect, "Connection refused")) == "connect: Connection refused");
  CHECK(describe(failed(TransportError::Timeout)) == "timeout");
  CHECK(delivery_name(Delivery::Drop) == "drop");
}

TEST_CASE("backoff: first retry within 1 s, doubling, capped at 5 min", "[delivery]") {
  CHECK(backoff(1, 0.0) == 500ms);
  CHECK(backoff(1, 0.999999) <= 1000ms);
  CHECK(backoff(1, 1.0) == 1000ms);
  CHECK(backoff(0, 0.0) == 500ms);
  CHECK(backoff(2, 0.0) == 1000ms);
  CHECK(backoff(2, 1.0) == 2000ms);
  CHECK(backoff(3, 0.5) == 3000ms);
  CHECK(backoff(9, 1.0) == 256s);
  CHECK(backoff(10, 1.0) == 300s);
  CHECK(backoff(10, 0.0) == 150s);
  CHECK(backoff(1000000, 1.0) == 300s);
  CHECK(backoff(1000000, 0.0) == 150s);
  CHECK(backoff(4, -3.0) == 4s);  // jitter clamped
  for (std::uint32_t n = 1; n < 40; ++n) {
    CHECK(backoff(n, 0.3) <= backoff(n + 1, 0.3));
    CHECK(backoff(n, 0.99) <= kMaxBackoff);
  }
}
