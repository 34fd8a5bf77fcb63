#include "agent/output_tail.h"

#include <algorithm>
#include <cstring>

namespace crashwrap::agent {

OutputTail::OutputTail(std::size_t max_lines, std::size_t max_bytes)
    : max_lines_(max_lines), max_bytes_(max_bytes) {}

void OutputTail::drop_oldest() {
  bytes_ -= entries_.front().length;
  entries_.pop_front();
  ++dropped_;
}

void OutputTail::push(const parsers::Line& line) {
  if (max_lines_ == 0 || max_bytes_ == 0) {
    ++dropped_;
    return;
  }
  if (text_.empty()) text_.resize(max_bytes_);  // on first use: idle runs cost nothing
  const std::string_view text = line.text.substr(0, max_bytes_);
  while (!entries_.empty() &&
         (entries_.size() >= max_lines_ || bytes_ + text.size() > max_bytes_)) {
    drop_oldest();
  }
  // The ring holds the texts back to back, so the bytes kept never exceed its size.
  const std::size_t first = std::min(text.size(), max_bytes_ - write_at_);
  std::memcpy(text_.data() + write_at_, text.data(), first);
  std::memcpy(text_.data(), text.data() + first, text.size() - first);
  entries_.push_back(Entry{write_at_, text.size(), line.stream, line.time});
  write_at_ += text.size();  // text.size() ≤ max_bytes_: a subtraction, not a division
  if (write_at_ >= max_bytes_) write_at_ -= max_bytes_;
  bytes_ += text.size();
}

std::vector<parsers::LogLine> OutputTail::lines() const {
  std::vector<parsers::LogLine> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) {
    parsers::LogLine l{e.stream, e.time, {}};
    const std::size_t first = std::min(e.length, max_bytes_ - e.offset);
    l.text.reserve(e.length);
    l.text.append(text_.data() + e.offset, first);
    l.text.append(text_.data(), e.length - first);
    out.push_back(std::move(l));
  }
  return out;
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
