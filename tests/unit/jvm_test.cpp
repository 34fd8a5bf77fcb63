#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kJvm = {"java", "jvm-fatal"};
std::optional<std::string> str(const char* s) { return std::string(s); }
}  // namespace

TEST_CASE("java corpus cases, all detectors on", "[jvm][corpus]") {
  for (const std::string& c : crashwrap::test::cases_of("java")) {
    SECTION(c) { check_case(c, {}); }
  }
}
