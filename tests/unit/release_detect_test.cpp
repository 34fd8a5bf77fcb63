#include "config/release_detect.h"

#include <catch2/catch.hpp>

#include "config/load.h"

using namespace crashwrap::config;
using Env = std::map<std::string, std::string>;
using Args = std::vector<std::string>;

TEST_CASE("the first commit variable set names the release", "[release_detect]") {
  CHECK_FALSE(detect_release(Env{}));
  CHECK_FALSE(detect_release(Env{{"HOME", "/root"}}));
  auto one = detect_release(Env{{"GITHUB_SHA", "  0123abcd\n"}});
  REQUIRE(one);
  CHECK(one->release == "0123abcd");
  CHECK(one->variable == "GITHUB_SHA");
  // SOURCE_VERSION comes before GIT_COMMIT, which comes before GITHUB_SHA.
  auto order = detect_release(Env{{"GITHUB_SHA", "c"}, {"GIT_COMMIT", "b"}, {"SOURCE_VERSION", "a"}});
  REQUIRE(order);
  CHECK(order->release == "a");
  CHECK(order->variable == "SOURCE_VERSION");
  auto k = detect_release(Env{{"K_REVISION", "api-00042-xyz"}, {"RAILWAY_GIT_COMMIT_SHA", "r"}});
  REQUIRE(k);
  CHECK(k->variable == "K_REVISION");
}

TEST_CASE("values Sentry would refuse as a release are skipped", "[release_detect]") {
  auto r = detect_release(Env{{"SOURCE_VERSION", "feature/x"}, {"HEROKU_SLUG_COMMIT", "   "},
                              {"GIT_COMMIT", ".."}, {"CIRCLE_SHA1", "deadbeef"}});
  REQUIRE(r);
  CHECK(r->release == "deadbeef");
  CHECK(r->variable == "CIRCLE_SHA1");
  CHECK(valid_release("myapp@1.2.3+abc"));
  CHECK_FALSE(valid_release(""));
  CHECK_FALSE(valid_release("."));
  CHECK_FALSE(valid_release("a\\b"));
  CHECK_FALSE(valid_release("a\tb"));
  CHECK_FALSE(valid_release(std::string(201, 'a')));
  CHECK(valid_release(std::string(200, 'a')));
}

TEST_CASE("the list names the usual CI systems and platforms", "[release_detect]") {
  const auto& names = release_variables();
  for (std::string_view expected : {"SOURCE_VERSION", "GIT_COMMIT", "HEROKU_SLUG_COMMIT", "K_REVISION",
                                    "CODEBUILD_RESOLVED_SOURCE_VERSION", "CIRCLE_SHA1", "VERCEL_GIT_COMMIT_SHA",
                                    "RENDER_GIT_COMMIT", "RAILWAY_GIT_COMMIT_SHA", "GITHUB_SHA"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
}

TEST_CASE("loading: --release and SENTRY_RELEASE win over a detected commit", "[release_detect]") {
  auto detected = load(Args{"--", "app"}, Env{{"GITHUB_SHA", "abc123"}});
  CHECK(detected.config.release == "abc123");
  CHECK(detected.config.release_source == "GITHUB_SHA");
  auto env = load(Args{"--", "app"}, Env{{"GITHUB_SHA", "abc123"}, {"SENTRY_RELEASE", "app@2"}});
  CHECK(env.config.release == "app@2");
  CHECK(env.config.release_source.empty());
  auto flag = load(Args{"--release", "app@3", "--", "app"}, Env{{"GITHUB_SHA", "abc123"}});
  CHECK(flag.config.release == "app@3");
  auto none = load(Args{"--", "app"}, Env{});
  CHECK(none.config.release.empty());
}
