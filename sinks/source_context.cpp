#include "sinks/source_context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>

#include "sinks/event_trim.h"

namespace crashwrap::sinks {
namespace {

using Lines = std::vector<std::string>;

// Where a frame's file is: abs_path first, then filename; "file://" URLs as
// Node prints them; never pseudo-files such as "<string>" or "node:internal/…".
std::optional<std::string> source_path(const parsers::Frame& f) {
  for (const std::string* candidate : {&f.abs_path, &f.filename}) {
    std::string_view p = *candidate;
    if (p.substr(0, 7) == "file://") p.remove_prefix(7);
    if (p.empty() || p.front() == '<' || p.substr(0, 5) == "node:" || p.find("://") != std::string_view::npos)
      continue;
    return std::string(p);
  }
  return std::nullopt;
}

// The whole file when it is a small regular file; read without blocking on
// FIFOs or devices a hostile path could name.
std::optional<std::string> read_small_file(const std::string& path, std::uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) <= max_bytes) {
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < data.size()) {
      ssize_t n = ::read(fd, data.data() + got, data.size() - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    out = std::move(data);
  }
  ::close(fd);
  return out;
}

Lines split_lines(std::string_view text, std::size_t max_line_bytes) {
  Lines lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(truncate_utf8(valid_utf8(line), max_line_bytes));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

class SourceCache {
 public:
  explicit SourceCache(const SourceLimits& limits) : limits_(limits) {}

  const Lines* get(const std::string& path) {
    auto it = files_.find(path);
    if (it != files_.end()) return it->second ? &*it->second : nullptr;
    if (files_.size() >= limits_.max_files) return nullptr;
    std::optional<Lines> lines;
    if (auto text = read_small_file(path, limits_.max_file_bytes)) lines = split_lines(*text, limits_.max_line_bytes);
    auto& slot = files_[path];
    slot = std::move(lines);
    return slot ? &*slot : nullptr;
  }

 private:
  const SourceLimits& limits_;
  std::map<std::string, std::optional<Lines>> files_;
};

bool fill(parsers::Frame& f, SourceCache& cache, const SourceLimits& limits) {
  if (f.context_line || !f.lineno || *f.lineno == 0) return false;
  auto path = source_path(f);
  if (!path) return false;
  const Lines* lines = cache.get(*path);
  std::size_t line = *f.lineno;  // 1-based
  if (!lines || line > lines->size()) return false;
  std::size_t first = line > limits.context_lines ? line - 1 - limits.context_lines : 0;
  std::size_t last = std::min(lines->size(), line + limits.context_lines);  // exclusive, 0-based
  f.pre_context.assign(lines->begin() + static_cast<std::ptrdiff_t>(first),
                       lines->begin() + static_cast<std::ptrdiff_t>(line - 1));
  f.context_line = (*lines)[line - 1];
  f.post_context.assign(lines->begin() + static_cast<std::ptrdiff_t>(line),
                        lines->begin() + static_cast<std::ptrdiff_t>(last));
  return true;
}

}  // namespace

bool wants_source_context(std::string_view platform) {
  for (std::string_view p : {"python", "node", "javascript", "ruby", "php", "perl"})
    if (platform == p) return true;
  return false;
}

std::size_t add_source_context(std::vector<parsers::Exception>& exceptions, std::vector<parsers::Thread>& threads,
                               const SourceLimits& limits) {
  SourceCache cache(limits);
  std::size_t seen = 0, filled = 0;
  auto visit = [&](std::vector<parsers::Frame>& frames) {
    // Newest frames first: where the budget runs out, the crash site still has context.
    for (auto it = frames.rbegin(); it != frames.rend() && seen < limits.max_frames; ++it, ++seen)
      if (fill(*it, cache, limits)) ++filled;
  };
  for (auto it = exceptions.rbegin(); it != exceptions.rend(); ++it) visit(it->stacktrace.frames);
  for (parsers::Thread& t : threads) visit(t.stacktrace.frames);
  return filled;
}

}  // namespace crashwrap::sinks
