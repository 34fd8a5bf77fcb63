#include <catch2/catch.hpp>

#include "managed_case.h"

using namespace crashwrap::parsers;
using crashwrap::test::check_case;
using crashwrap::test::feed;

namespace {
const std::vector<std::string> kDotnet = {"dotnet"};
}  // namespace

TEST_CASE("dotnet corpus cases", "[dotnet][corpus]") {
  for (const char* c : {"dotnet/unhandled-invalid-operation"}) check_case(c, kDotnet);
}
