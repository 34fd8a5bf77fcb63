// Pieces of Node.js / V8 output shared by the Node detector and its tests:
// the "Name [CODE]: message" line of an error, "at" frames, V8's native
// stack lines. Pure functions; string_views point into the argument.
#pragma once

#include <optional>
#include <string_view>

#include "parsers/model.h"

namespace crashwrap::parsers::node {

// "TypeError: msg", "TypeError [ERR_X]: msg", "Error" (no message),
// "[Error: msg]" / "[UnhandledPromiseRejection: …] {" (inspect without a stack).
// `bare` (no crash context around the line) demands a name ending in
// "Error" or "Exception".
struct ErrorHeader {
  std::string_view name;
  std::string_view code;                 // "ERR_X" of "TypeError [ERR_X]"
  std::optional<std::string_view> message;
  bool opens_properties = false;         // ends with " {": inspect's property block follows
};
std::optional<ErrorHeader> parse_error_header(std::string_view line, bool bare) noexcept;

// "    at fn (file:line:col)", "    at file:line:col", "    at async fn (…)",
// "    at new Cls (…)", "    at Array.map (<anonymous>)", "    at async Promise.all (index 1)".
// A trailing " {" (the property block of the error) is allowed and reported.
std::optional<Frame> parse_frame(std::string_view line, bool* opens_properties = nullptr);
bool is_frame(std::string_view line, bool* opens_properties = nullptr) noexcept;  // no allocation

// " 1: 0xb78db3 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]"
std::optional<Frame> parse_native_frame(std::string_view line);
bool is_native_frame(std::string_view line) noexcept;

// "    ... 6 lines matching cause stack trace ..." → 6.
std::optional<std::uint32_t> cause_match_count(std::string_view line) noexcept;

}  // namespace crashwrap::parsers::node
