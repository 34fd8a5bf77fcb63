// Splits one output stream of the child into lines for analysis. The bytes
// themselves have already gone through the passthrough untouched; the splitter
// only builds the analysis view: LF-separated, a trailing CR stripped, text cut
// at `max_line_bytes` (the rest counted in Line::cut_bytes), each line stamped
// with the time its first byte arrived and numbered from 1 per stream.
// Memory is bounded by `max_line_bytes` per stream whatever the input.
// Event loop only (not thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "parsers/model.h"

namespace crashwrap::agent {

class LineSplitter {
 public:
  // Receives each finished line; Line::text is only valid during the call.
  using Sink = std::function<void(const parsers::Line&)>;

  LineSplitter(parsers::Stream stream, std::size_t max_line_bytes);

  // Feeds the next chunk of the stream, read at `now`; calls `sink` once per
  // line completed by this chunk, in order.
  void feed(std::string_view bytes, parsers::Timestamp now, const Sink& sink);
  // End of stream: a final line without LF is delivered (if any).
  void finish(const Sink& sink);

  std::uint64_t lines() const { return number_; }   // lines delivered so far
  bool has_partial() const { return pending_len_ > 0; }

 private:
  void emit(std::string_view full, parsers::Timestamp time, const Sink& sink);
  void append_partial(std::string_view bytes, parsers::Timestamp now);
  void emit_pending(const Sink& sink);

  parsers::Stream stream_;
  std::size_t cap_;
  std::uint64_t number_ = 0;
  std::string pending_;            // first `cap_` bytes of an unfinished line
  std::size_t pending_len_ = 0;    // its full length so far
  char pending_last_ = 0;          // its last byte (to spot a CR beyond the cap)
  parsers::Timestamp pending_time_{};
};

}  // namespace crashwrap::agent
