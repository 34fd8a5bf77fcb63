#include "parsers/native_frames.h"

#include "parsers/in_app.h"
#include "parsers/text.h"

namespace crashwrap::parsers::native {
namespace {

using text::starts_with;

constexpr std::string_view kSystemFunctions[] = {
    "__interceptor_", "___interceptor_", "__asan", "__lsan", "__tsan", "__ubsan", "__msan", "__hwasan",
    "__sanitizer", "__libc_", "__GI_", "_dl_", "__pthread", "pthread_", "start_thread", "__clone", "__cxa_",
    "__gxx_", "_Unwind_", "__gnu_cxx::", "std::", "__cxxabiv1::", "__assert_fail", "__stack_chk_fail",
    "__fortify_fail", "__chk_fail", "__restore_rt", "__sigaction", "operator new", "operator delete",
};
constexpr std::string_view kSystemExact[] = {
    "_start", "clone", "clone3", "abort", "raise", "gsignal", "malloc", "calloc", "realloc", "free",
    "memcpy", "memmove", "memset", "strlen", "strcpy", "main_thread",
};
constexpr std::string_view kSystemPaths[] = {
    "/libsanitizer/", "/compiler-rt/", "sanitizer_common/", "sysdeps/", "csu/", "/glibc-", "/usr/include/",
    "/include/c++/", "/lib/gcc/", "/usr/src/debug/", "/build/glibc", "nptl/",
};
constexpr std::string_view kSystemBinaries[] = {
    "libc.so", "libc-", "libstdc++", "libasan", "libtsan", "libubsan", "liblsan", "libmsan", "libhwasan",
    "libgcc_s", "ld-linux", "ld-musl", "libpthread", "libm.so", "libdl", "librt", "libclang_rt", "libc++",
    "libunwind",
};

constexpr text::Needles kSystemFunctionSet(kSystemFunctions);
constexpr text::Needles kSystemPathSet(kSystemPaths);
constexpr text::Needles kSystemBinarySet(kSystemBinaries);

// "(/tmp/app/app+0x10f0)" → {"/tmp/app/app", "0x10f0"}
bool parse_module_offset(std::string_view group, Frame& f) {
  if (group.size() < 2 || group.front() != '(' || group.back() != ')') return false;
  group = group.substr(1, group.size() - 2);
  if (group == "<unknown module>") return true;
  auto split = text::split_last(group, "+0x");
  if (!split.found || !text::is_hex(split.right)) return false;
  f.package = std::string(split.left);
  return true;
}

// Splits "func location" where the location is the last word ("file:L[:C]" or "<null>").
void parse_function_and_location(std::string_view rest, Frame& f) {
  rest = text::trim(rest);
  auto split = text::split_last(rest, " ");
  std::string_view function = rest;
  if (split.found) {
    std::string_view loc = split.right;
    if (loc == "<null>") {
      function = split.left;
    } else if (auto fl = text::parse_file_line_col(loc); fl && !text::contains(fl->file, "(")) {
      function = split.left;
      f.abs_path = std::string(fl->file);
      f.filename = f.abs_path;
      f.lineno = fl->line;
      f.colno = fl->col;
    }
  }
  function = text::trim(function);
  if (function != "<null>") f.function = std::string(function);
}

}  // namespace

bool is_system_frame(const Frame& f) noexcept {
  if (kSystemFunctionSet.prefix_of(f.function)) return true;
  for (std::string_view e : kSystemExact)
    if (f.function == e) return true;
  if (kSystemPathSet.found_in(f.abs_path)) return true;
  if (!f.abs_path.empty() && is_library_path(f.abs_path)) return true;
  return !f.package.empty() && kSystemBinarySet.prefix_of(text::basename(f.package));
}

bool is_sanitizer_frame_line(std::string_view line) noexcept {
  std::string_view s = text::trim_left(line);
  if (s.size() < 3 || s[0] != '#' || s.size() == line.size()) return false;
  std::size_t i = 1;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i > 1 && i < s.size() && s[i] == ' ';
}

std::optional<Frame> parse_sanitizer_frame(std::string_view line) {
  std::optional<Frame> out;  // one object for every return: built in place, never moved
  if (!is_sanitizer_frame_line(line)) return out;
  std::string_view rest = text::trim_left(line);
  rest = text::trim_left(rest.substr(rest.find(' ')));
  Frame& f = out.emplace();
  if (starts_with(rest, "0x")) {
    std::string_view addr = rest.substr(0, rest.find(' '));
    f.instruction_addr = std::string(addr);
    rest = text::trim_left(rest.substr(addr.size()));
  }
  if (auto in = text::after(rest, "in ")) rest = *in;
  if (auto b = text::find(rest, " (BuildId: "); b != std::string_view::npos) rest = rest.substr(0, b);
  rest = text::trim_right(rest);
  if (text::ends_with(rest, ")")) {
    std::size_t open = rest.rfind('(');
    if (open != std::string_view::npos && (open == 0 || rest[open - 1] == ' ') &&
        parse_module_offset(rest.substr(open), f))
      rest = rest.substr(0, open);
  }
  parse_function_and_location(rest, f);
  f.in_app = !is_system_frame(f);
  return out;
}

}  // namespace crashwrap::parsers::native
