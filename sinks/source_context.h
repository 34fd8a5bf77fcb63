// Source context for frames of interpreted languages, as Sentry's own SDKs add
// it: pre_context / context_line / post_context around the frame's line, read
// from the file when it is readable on this machine.
//
// Bounded: only regular files up to max_file_bytes, at most max_files distinct
// files and max_frames frames per call, lines cut at max_line_bytes. Reads the
// file system; callable from any thread; never throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "parsers/model.h"

namespace crashwrap::sinks {

struct SourceLimits {
  std::size_t context_lines = 5;             // each side of the frame's line
  std::uint64_t max_file_bytes = 2 * 1024 * 1024;
  std::size_t max_line_bytes = 1000;
  std::size_t max_files = 32;
  std::size_t max_frames = 400;
};

// python, node, javascript, ruby, php, perl: the platforms whose SDKs send source.
bool wants_source_context(std::string_view platform);

// Fills the source context of every frame (exceptions first, then threads) whose
// abs_path (or filename) names a readable file and whose lineno is within it.
// Frames that already have a context_line are left alone. Returns the number of
// frames filled.
std::size_t add_source_context(std::vector<parsers::Exception>& exceptions, std::vector<parsers::Thread>& threads,
                               const SourceLimits& limits = {});

}  // namespace crashwrap::sinks
