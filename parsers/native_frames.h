// Frames of native code as runtimes and sanitizers print them: shared by the
// Rust, C/C++ and sanitizer detectors. Pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "parsers/model.h"

namespace crashwrap::parsers::native {

// True for frames of the C library, the C++ runtime, the sanitizer runtimes,
// the dynamic loader and program startup (by function, path or binary).
bool is_system_frame(const Frame& f) noexcept;

// One sanitizer stack line, with in_app set:
//   "    #0 0x558900c2c223 in sum_window /tmp/app/main.cpp:7"          (ASan, LSan, UBSan, MSan)
//   "    #4 0x558900c2c0f0 in _start (/tmp/app/app+0x10f0)"            (module+offset → package)
//   "    #0 work() /tmp/app/main.cpp:7:43 (app+0xd4562) (BuildId: …)"  (TSan)
std::optional<Frame> parse_sanitizer_frame(std::string_view line);
bool is_sanitizer_frame_line(std::string_view line) noexcept;

}  // namespace crashwrap::parsers::native
