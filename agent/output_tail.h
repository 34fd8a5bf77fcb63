// The last lines of the child's output, bounded by a line count and a byte
// budget: the event's breadcrumbs and its "output-tail.txt" attachment.
// Event loop only (not thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parsers/model.h"

namespace crashwrap::agent {

class OutputTail {
 public:
  // Keeps at most `max_lines` lines whose texts total at most `max_bytes`
  // (the oldest are dropped first). A single line longer than `max_bytes` is
  // kept cut to its first `max_bytes` bytes. Zero in either bound keeps nothing.
  OutputTail(std::size_t max_lines, std::size_t max_bytes);

  // Copies line.text into a byte ring allocated once: no allocation per line.
  void push(const parsers::Line& line);
  std::vector<parsers::LogLine> lines() const;   // oldest first
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return bytes_; }
  std::uint64_t dropped() const { return dropped_; }  // lines pushed out so far

 private:
  struct Entry {
    std::size_t offset;        // where the text starts in text_ (it may wrap)
    std::size_t length;
    parsers::Stream stream;
    parsers::Timestamp time;
  };
  void drop_oldest();
  void grow();                                 // more entry slots, up to max_lines_
  std::size_t slot(std::size_t k) const {      // the k-th oldest entry's index in ring_
    const std::size_t i = head_ + k;
    return i >= ring_.size() ? i - ring_.size() : i;
  }

  std::size_t max_lines_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::size_t write_at_ = 0;   // next free byte in text_
  std::uint64_t dropped_ = 0;
  std::vector<char> text_;     // max_bytes_ bytes, used as a ring
  std::vector<Entry> ring_;    // grows to at most max_lines_ slots, then wraps
  std::size_t head_ = 0;       // slot of the oldest entry
  std::size_t count_ = 0;      // entries held
};

// "[stdout] text\n" / "[stderr] text\n" per line, oldest first: the attachment body.
std::string render_tail(const std::vector<parsers::LogLine>& lines);

}  // namespace crashwrap::agent
