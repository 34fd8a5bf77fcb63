#include "agent/output_tail.h"

#include <algorithm>
#include <cstring>

namespace crashwrap::agent {

OutputTail::OutputTail(std::size_t max_lines, std::size_t max_bytes)
    : max_lines_(max_lines), max_bytes_(max_bytes) {}

void OutputTail::drop_oldest() {
  bytes_ -= ring_[head_].length;
  head_ = slot(1);
  --count_;
  ++dropped_;
}

void OutputTail::grow() {
  std::rotate(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(head_), ring_.end());
  head_ = 0;
  ring_.resize(std::min(max_lines_, std::max<std::size_t>(64, ring_.size() * 2)));
}

void OutputTail::push(const parsers::Line& line) {
  if (max_lines_ == 0 || max_bytes_ == 0) {
    ++dropped_;
    return;
  }
  if (text_.empty()) text_.resize(max_bytes_);  // on first use: idle runs cost nothing
  const std::string_view text = line.text.substr(0, max_bytes_);
  while (count_ > 0 && (count_ >= max_lines_ || bytes_ + text.size() > max_bytes_)) {
    drop_oldest();
  }
  // The ring holds the texts back to back, so the bytes kept never exceed its size.
  const std::size_t first = std::min(text.size(), max_bytes_ - write_at_);
  std::memcpy(text_.data() + write_at_, text.data(), first);
  std::memcpy(text_.data(), text.data() + first, text.size() - first);
  if (count_ == ring_.size()) grow();
  ring_[slot(count_)] = Entry{write_at_, text.size(), line.stream, line.time};
  ++count_;
  write_at_ += text.size();  // text.size() ≤ max_bytes_: a subtraction, not a division
  if (write_at_ >= max_bytes_) write_at_ -= max_bytes_;
  bytes_ += text.size();
}

std::vector<parsers::LogLine> OutputTail::lines() const {
  std::vector<parsers::LogLine> out;
  out.reserve(count_);
  for (std::size_t k = 0; k < count_; ++k) {
    const Entry& e = ring_[slot(k)];
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
