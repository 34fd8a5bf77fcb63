#include "agent/line_splitter.h"

#include <algorithm>
#include <cstring>

namespace crashwrap::agent {

LineSplitter::LineSplitter(parsers::Stream stream, std::size_t max_line_bytes)
    : stream_(stream), cap_(max_line_bytes) {}

void LineSplitter::feed(std::string_view bytes, parsers::Timestamp now, const Sink& sink) {
  while (!bytes.empty()) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    if (nl == nullptr) {
      append_partial(bytes, now);
      return;
    }
    const auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - bytes.data());
    if (pending_len_ == 0) {
      // The common case: the whole line is inside this chunk, no copy.
      emit(bytes.substr(0, len), now, sink);
    } else {
      append_partial(bytes.substr(0, len), now);
      emit_pending(sink);
    }
    bytes.remove_prefix(len + 1);
  }
}

void LineSplitter::finish(const Sink& sink) {
  if (pending_len_ > 0) emit_pending(sink);
}

void LineSplitter::emit(std::string_view full, parsers::Timestamp time, const Sink& sink) {
  if (!full.empty() && full.back() == '\r') full.remove_suffix(1);
  parsers::Line line;
  line.stream = stream_;
  line.time = time;
  line.text = full.substr(0, std::min(full.size(), cap_));
  line.cut_bytes = full.size() - line.text.size();
  line.number = ++number_;
  sink(line);
}

void LineSplitter::append_partial(std::string_view bytes, parsers::Timestamp now) {
  if (bytes.empty()) return;
  if (pending_len_ == 0) pending_time_ = now;
  if (pending_.size() < cap_) {
    pending_.append(bytes.substr(0, cap_ - pending_.size()));
  }
  pending_len_ += bytes.size();
  pending_last_ = bytes.back();
}

void LineSplitter::emit_pending(const Sink& sink) {
  std::size_t total = pending_len_;
  if (pending_last_ == '\r') --total;
  parsers::Line line;
  line.stream = stream_;
  line.time = pending_time_;
  line.text = std::string_view(pending_).substr(0, std::min(total, pending_.size()));
  line.cut_bytes = total - line.text.size();
  line.number = ++number_;
  sink(line);
  pending_.clear();
  pending_len_ = 0;
  pending_last_ = 0;
}

}  // namespace crashwrap::agent
