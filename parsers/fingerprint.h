// A stable local fingerprint of a crash: runtime + final exception type +
// in-app function names (no line numbers, addresses or messages), so the same
// bug hashes the same across builds and runs. Pure.
#pragma once

#include <string>

#include "parsers/model.h"

namespace crashwrap::parsers {

// 16 lowercase hex characters.
std::string fingerprint(const CrashReport& report);
// For an exit without a report: runtime-free, from how the process ended.
std::string fingerprint(const ExitInfo& exit, std::string_view command);

}  // namespace crashwrap::parsers
