#include <catch2/catch.hpp>

#include <string>

#include "config/load.h"
#include "sinks/event_builder.h"
#include "sinks/scrubber.h"

using crashwrap::sinks::Scrubber;

namespace {

std::string scrubbed(std::string text, const Scrubber& s = Scrubber::with_patterns({})) {
  s.scrub(text);
  return text;
}

}  // namespace

TEST_CASE("ordinary lines pass unchanged", "[scrubber]") {
  const Scrubber s = Scrubber::with_patterns({});
  for (std::string line : {
           std::string("2024-05-01 12:34:56.789 INFO request done status=200 took=12ms"),
           std::string("Traceback (most recent call last):"),
           std::string("  File \"/app/main.py\", line 12, in <module>"),
           std::string("user alice@example.com logged in from 10.0.0.1"),
           std::string("ts=1714567890123 tokens_used=17 secret_name=db"),
           std::string("order 4111111111111112 shipped"),  // fails Luhn
           std::string("epoch ms 1714567890123 and id 12345678901234567890123"),
           std::string("-----BEGIN CERTIFICATE-----"),
           std::string(""),
       }) {
    const std::string before = line;
    CHECK_FALSE(s.scrub(line));
    CHECK(line == before);
  }
}

TEST_CASE("URL userinfo and DSN keys", "[scrubber]") {
  CHECK(scrubbed("SENTRY_DSN=https://abc123def@o1.ingest.sentry.io/42") ==
        "SENTRY_DSN=https://[Filtered]@o1.ingest.sentry.io/42");
  CHECK(scrubbed("connecting to postgres://app:s3cr3t@db:5432/main") ==
        "connecting to postgres://[Filtered]@db:5432/main");
  CHECK(scrubbed("dsn \"https://pub:priv@sentry.example.com/1\" used") ==
        "dsn \"https://[Filtered]@sentry.example.com/1\" used");
  CHECK(scrubbed("mail me: bob@example.com") == "mail me: bob@example.com");
}

TEST_CASE("Authorization headers keep the key, lose the value", "[scrubber]") {
  CHECK(scrubbed("Authorization: Bearer eyJhbGciOi.x.y") == "Authorization: [Filtered]");
  CHECK(scrubbed("> proxy-authorization: Basic dXNlcjpwYXNz  ") == "> proxy-authorization: [Filtered]  ");
  CHECK(scrubbed(R"({"Authorization": "Bearer abc", "Accept": "*/*"})") ==
        R"({"Authorization": "[Filtered]", "Accept": "*/*"})");
}

TEST_CASE("secret keys in key=value, key: value and JSON forms", "[scrubber]") {
  CHECK(scrubbed("login user=bob password=hunter2 ok") == "login user=bob password=[Filtered] ok");
  CHECK(scrubbed("PASSWD=x&next=1") == "PASSWD=[Filtered]&next=1");
  CHECK(scrubbed("pwd: abc;") == "pwd: [Filtered];");
  CHECK(scrubbed("DB_PASSWORD='a b c' x") == "DB_PASSWORD='[Filtered]' x");
  CHECK(scrubbed("?access_token=AbC&client_secret=zz") == "?access_token=[Filtered]&client_secret=[Filtered]");
  CHECK(scrubbed("api_key=1 apikey=2 token=3 secret=4") ==
        "api_key=[Filtered] apikey=[Filtered] token=[Filtered] secret=[Filtered]");
  CHECK(scrubbed(R"({"password":"hunter2","user":"bob"})") == R"({"password":"[Filtered]","user":"bob"})");
  CHECK(scrubbed(R"({"msg":"{\"token\":\"abc\"}"})") == R"({"msg":"{\"token\":\"[Filtered]\"}"})");
  CHECK(scrubbed("--password=x") == "--password=[Filtered]");
}

TEST_CASE("AWS keys", "[scrubber]") {
  CHECK(scrubbed("key AKIAIOSFODNN7EXAMPLE used") == "key [Filtered] used");
  CHECK(scrubbed("ASIAIOSFODNN7EXAMPLE") == "[Filtered]");
  CHECK(scrubbed("XAKIAIOSFODNN7EXAMPLE") == "XAKIAIOSFODNN7EXAMPLE");
  CHECK(scrubbed("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") ==
        "aws_secret_access_key = [Filtered]");
}

TEST_CASE("private keys between their markers", "[scrubber]") {
  CHECK(scrubbed("-----BEGIN RSA PRIVATE KEY-----MIIEow...-----END RSA PRIVATE KEY-----") ==
        "-----BEGIN RSA PRIVATE KEY-----[Filtered]-----END RSA PRIVATE KEY-----");
  CHECK(scrubbed("k=\"-----BEGIN PRIVATE KEY-----\\nMIIE\\nabc") == "k=\"-----BEGIN PRIVATE KEY-----[Filtered]");
  CHECK(scrubbed("-----BEGIN EC PRIVATE KEY-----\nAAAA\nBBBB\n-----END EC PRIVATE KEY-----\n") ==
        "-----BEGIN EC PRIVATE KEY-----[Filtered]-----END EC PRIVATE KEY-----\n");
}

TEST_CASE("card numbers passing Luhn", "[scrubber]") {
  CHECK(scrubbed("card 4111111111111111 charged") == "card [Filtered] charged");
  CHECK(scrubbed("card 4111 1111 1111 1111.") == "card [Filtered].");
  CHECK(scrubbed("amex 3782-822463-10005") == "amex [Filtered]");
  CHECK(scrubbed("v1.4111111111111111") == "v1.4111111111111111");  // part of a version-like token
  CHECK(scrubbed("id=41111111111111110000000") == "id=41111111111111110000000");  // too long
}

TEST_CASE("user patterns replace whole matches", "[scrubber]") {
  const Scrubber s = Scrubber::with_patterns({"session=[0-9a-f]+", "ssn \\d{3}-\\d{2}-\\d{4}"});
  CHECK(scrubbed("GET /x session=deadbeef ssn 123-45-6789", s) == "GET /x [Filtered] [Filtered]");
  const Scrubber broken = Scrubber::with_patterns({"(unclosed"});
  CHECK(scrubbed("(unclosed password=x", broken) == "(unclosed password=[Filtered]");
}

TEST_CASE("scrubbing off changes nothing", "[scrubber]") {
  const Scrubber s = Scrubber::with_patterns({"x"}, false);
  CHECK_FALSE(s.enabled());
  CHECK(scrubbed("password=hunter2 x", s) == "password=hunter2 x");
}

TEST_CASE("scrubbing is idempotent", "[scrubber]") {
  const Scrubber s = Scrubber::with_patterns({});
  std::string line = "password=hunter2 https://k@h/1 Authorization: Bearer z";
  CHECK(s.scrub(line));
  const std::string once = line;
  CHECK_FALSE(s.scrub(line));
  CHECK(line == once);
}

TEST_CASE("JSON: every string, keys kept, secret-named keys filtered whole", "[scrubber]") {
  nlohmann::json j = {{"extra", {{"password", "a b c"}, {"note", "token=abc"}}},
                      {"list", {"AKIAIOSFODNN7EXAMPLE", 42, nullptr}},
                      {"password=key", "plain"}};
  Scrubber::with_patterns({}).scrub_json(j);
  CHECK(j["extra"]["password"] == "[Filtered]");
  CHECK(j["extra"]["note"] == "token=[Filtered]");
  CHECK(j["list"][0] == "[Filtered]");
  CHECK(j["list"][1] == 42);
  CHECK(j["password=key"] == "plain");
}

TEST_CASE("events: JSON, text attachments and multi-line keys in breadcrumbs", "[scrubber]") {
  crashwrap::sinks::BuiltEvent e;
  e.event = {{"exception", {{"values", {{{"type", "Error"}, {"value", "bad password=x"}}}}}},
             {"breadcrumbs",
              {{"values",
                {{{"message", "-----BEGIN RSA PRIVATE KEY-----"}},
                 {{"message", "MIIEowIBAAKCAQEA"}},
                 {{"message", "-----END RSA PRIVATE KEY-----"}},
                 {{"message", "after"}}}}}}};
  e.attachments.push_back({"output-tail.txt", "text/plain", "Authorization: Bearer t\nok\n"});
  e.attachments.push_back({"core", "application/octet-stream", "password=raw"});
  Scrubber::with_patterns({}).scrub_event(e);
  CHECK(e.event["exception"]["values"][0]["value"] == "bad password=[Filtered]");
  const auto& crumbs = e.event["breadcrumbs"]["values"];
  CHECK(crumbs[0]["message"] == "-----BEGIN RSA PRIVATE KEY-----");
  CHECK(crumbs[1]["message"] == "[Filtered]");
  CHECK(crumbs[2]["message"] == "-----END RSA PRIVATE KEY-----");
  CHECK(crumbs[3]["message"] == "after");
  CHECK(e.attachments[0].data == "Authorization: [Filtered]\nok\n");
  CHECK(e.attachments[1].data == "password=raw");
}

TEST_CASE("configuration: --no-scrub, patterns, and a bad pattern warns and is left out", "[scrubber]") {
  auto r = crashwrap::config::load({"--scrub-pattern", "a(", "--scrub-pattern", "id=\\d+", "--", "true"}, {});
  REQUIRE(r.config.scrub_patterns.size() == 1);
  bool named = false;
  for (const auto& w : r.warnings) named = named || w.find("a(") != std::string::npos;
  CHECK(named);
  CHECK(scrubbed("id=42", Scrubber::from(r.config)) == "[Filtered]");
  auto off = crashwrap::config::load({"--no-scrub", "--", "true"}, {});
  CHECK_FALSE(Scrubber::from(off.config).enabled());
}

TEST_CASE("secrets are found at every offset of the eight-byte skip, after long plain stretches", "[scrubber]") {
  const std::string secrets[] = {"password=hunter2", "user AKIAIOSFODNN7EXAMPLE", "card 4111 1111 1111 1111",
                                 "https://key:pw@example.com/1", "-----BEGIN RSA PRIVATE KEY-----"};
  for (const std::string& secret : secrets) {
    for (std::size_t pad = 0; pad < 20; ++pad) {
      const std::string text = std::string(pad, 'q') + " " + std::string(pad % 9, 'x') + secret + " tail";
      INFO("text: " << text);
      CHECK(scrubbed(text) != text);
      CHECK(scrubbed(text).find("[Filtered]") != std::string::npos);
    }
  }
  // Letters, spaces and UTF-8 only: nothing to find, nothing changed.
  const std::string plain = "the quick brown fox jumps over the lazy dog \xc3\xa9\xc3\xa8 again and again and again";
  CHECK(scrubbed(plain) == plain);
}
