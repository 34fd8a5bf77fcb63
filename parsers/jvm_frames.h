// Pieces of Java stack trace text shared by the JVM detectors: class names,
// the "Type: message" line of a Throwable, "at" frames and "... N more".
// Pure functions; string_views point into the argument.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "parsers/model.h"

namespace crashwrap::parsers::jvm {

// A binary class name: identifiers ([A-Za-z0-9_$], any non-ASCII byte) joined
// by single dots, not starting or ending with a dot.
bool is_class_name(std::string_view s) noexcept;

// Throwable.toString(): "pkg.Cls: message" or "pkg.Cls" (message null).
// `require_package` (a line with no crash context around it) demands a
// package or a nested class, a capitalised simple name, and "Exception",
// "Error" or "Throwable" in it.
struct Throwable {
  std::string_view cls;
  std::optional<std::string_view> message;
};
std::optional<Throwable> parse_throwable(std::string_view line, bool require_package) noexcept;

// "java.io.IOException" → {"java.io", "IOException"}; no package → {"", cls}.
std::pair<std::string_view, std::string_view> split_class(std::string_view cls) noexcept;

// False for the JDK and the JVM languages' standard libraries (java.*, javax.*,
// jdk.*, sun.*, com.sun.*, kotlin.*, kotlinx.*, scala.*, …).
bool is_in_app_class(std::string_view cls) noexcept;

// "\tat [loader//][module@ver/]pkg.Cls$Inner.method(File.java:12)[ ~[jar:ver]]"
// → module "pkg.Cls$Inner", function "method", filename "File.java", lineno 12.
// "Native Method" / "Unknown Source" leave the file empty. Any indentation.
std::optional<Frame> parse_frame(std::string_view line);
bool is_frame(std::string_view line) noexcept;

// "... 12 more" / "... 12 common frames omitted" (logback) → 12.
std::optional<std::uint64_t> more_count(std::string_view line) noexcept;

}  // namespace crashwrap::parsers::jvm
