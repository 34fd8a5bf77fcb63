// Where the integration tests find the built binary, helper programs and fixtures.
#pragma once

#include <string>

namespace crashwrap::test {

inline std::string crashwrap_bin() { return CRASHWRAP_BIN; }
inline std::string test_program(const std::string& name) {
  return std::string(CRASHWRAP_TEST_BIN_DIR) + "/" + name;
}
inline std::string source_dir() { return CRASHWRAP_SOURCE_DIR; }
inline std::string corpus_dir() { return CRASHWRAP_CORPUS_DIR; }

}  // namespace crashwrap::test
