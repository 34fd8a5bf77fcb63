#include <catch2/catch.hpp>

#include "config/dsn.h"

using crashwrap::config::parse_dsn;
using crashwrap::config::redact_dsn;

TEST_CASE("a plain sentry.io DSN", "[dsn]") {
  std::string error;
  auto d = parse_dsn("https://abc123@o42.ingest.sentry.io/4505", error);
  REQUIRE(d);
  CHECK(error.empty());
  CHECK(d->scheme == "https");
  CHECK(d->public_key == "abc123");
  CHECK(d->secret.empty());
  CHECK(d->host == "o42.ingest.sentry.io");
  CHECK_FALSE(d->port);
  CHECK(d->path.empty());
  CHECK(d->project_id == "4505");
  CHECK(d->envelope_url() == "https://o42.ingest.sentry.io/api/4505/envelope/");
}

TEST_CASE("secret, port and path prefix", "[dsn]") {
  std::string error;
  auto d = parse_dsn("  http://pub:sec@127.0.0.1:9000/sentry/relay/7/  ", error);
  REQUIRE(d);
  CHECK(d->raw == "http://pub:sec@127.0.0.1:9000/sentry/relay/7/");
  CHECK(d->public_key == "pub");
  CHECK(d->secret == "sec");
  CHECK(d->host == "127.0.0.1");
  CHECK(d->port == 9000);
  CHECK(d->path == "/sentry/relay");
  CHECK(d->project_id == "7");
  CHECK(d->envelope_url() == "http://127.0.0.1:9000/sentry/relay/api/7/envelope/");
}

TEST_CASE("IPv6 host and upper-case scheme", "[dsn]") {
  std::string error;
  auto d = parse_dsn("HTTP://k@[::1]:8080/3", error);
  REQUIRE(d);
  CHECK(d->scheme == "http");
  CHECK(d->host == "::1");
  CHECK(d->authority() == "[::1]:8080");
  CHECK(d->envelope_url() == "http://[::1]:8080/api/3/envelope/");
}

TEST_CASE("each defect gets its own message", "[dsn]") {
  struct Case {
    const char* dsn;
    const char* error;
  };
  const Case cases[] = {
      {"", "it is empty"},
      {"o1.ingest.sentry.io/42", "it has no scheme (expected https://KEY@HOST/PROJECT_ID)"},
      {"ftp://k@host/42", "the scheme 'ftp' is not http or https"},
      {"https://host/42", "it has no public key (the part before '@')"},
      {"https://@host/42", "it has no public key (the part before '@')"},
      {"https://:s@host/42", "it has no public key (the part before '@')"},
      {"https://k@/42", "it has no host (the part after '@')"},
      {"https://k@host:abc/42", "the port 'abc' is not a number from 1 to 65535"},
      {"https://k@host:0/42", "the port '0' is not a number from 1 to 65535"},
      {"https://k@host:70000/42", "the port '70000' is not a number from 1 to 65535"},
      {"https://k@host:/42", "the port '' is not a number from 1 to 65535"},
      {"https://k@host/abc", "the project id 'abc' is not a number"},
      {"https://k@host/", "it has no project id (the number at the end, e.g. https://KEY@HOST/42)"},
      {"https://k@host", "it has no project id (the number at the end, e.g. https://KEY@HOST/42)"},
      {"https://k@[::1/42", "the IPv6 host '[::1' has no closing ']'"},
  };
  for (const Case& c : cases) {
    INFO(c.dsn);
    std::string error;
    CHECK_FALSE(parse_dsn(c.dsn, error));
    CHECK(error == c.error);
  }
}

TEST_CASE("redaction hides only the secret", "[dsn]") {
  CHECK(redact_dsn("https://pub:topsecret@host/1") == "https://pub:***@host/1");
  CHECK(redact_dsn("https://pub@host/1") == "https://pub@host/1");
  CHECK(redact_dsn("garbage") == "garbage");
}
