#include "agent/output_tail.h"

namespace crashwrap::agent {

OutputTail::OutputTail(std::size_t max_lines, std::size_t max_bytes)
    : max_lines_(max_lines), max_bytes_(max_bytes) {}

void OutputTail::push(const parsers::Line& line) {
  if (max_lines_ == 0 || max_bytes_ == 0) {
    ++dropped_;
    return;
  }
  std::string_view text = line.text.substr(0, max_bytes_);
  while (!ring_.empty() &&
         (ring_.size() >= max_lines_ || bytes_ + text.size() > max_bytes_)) {
    bytes_ -= ring_.front().text.size();
    ring_.pop_front();
    ++dropped_;
  }
  ring_.push_back(parsers::LogLine{line.stream, line.time, std::string(text)});
  bytes_ += text.size();
}

std::vector<parsers::LogLine> OutputTail::lines() const {
  return std::vector<parsers::LogLine>(ring_.begin(), ring_.end());
}

std::string render_tail(const std::vector<parsers::LogLine>& lines) {
  std::size_t total = 0;
  for (const auto& l : lines) total += l.text.size() + 10;
  std::string out;
  out.reserve(total);
  for (const auto& l : lines) {
    out += l.stream == parsers::Stream::Stdout ? "[stdout] " : "[stderr] ";
    out += l.text;
    out += '\n';
  }
  return out;
}

}  // namespace crashwrap::agent
