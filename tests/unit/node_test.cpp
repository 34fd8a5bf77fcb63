#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kNode = {"node"};
}  // namespace

TEST_CASE("node corpus cases, all detectors on", "[node][corpus]") {
  for (const std::string& c : crashwrap::test::cases_of("node")) {
    if (c == "node/json-lines-logger-stack") continue;  // a JSON log line: the json_log detector's case
    SECTION(c) { check_case(c, {}); }
  }
}
