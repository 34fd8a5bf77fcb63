#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kDotnet = {"dotnet"};
}  // namespace

TEST_CASE("dotnet corpus cases, all detectors on", "[dotnet][corpus]") {
  for (const std::string& c : crashwrap::test::cases_of("dotnet")) {
    SECTION(c) { check_case(c, {}); }
  }
}
