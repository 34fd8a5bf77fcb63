// The passthrough: one child pipe → one of crashwrap's own output fds, byte for
// byte, in order, with backpressure, and a copy of every chunk for analysis.
//
// Backpressure: a chunk read from the child is written out completely before
// the next read, so when crashwrap's reader is slow the child's pipe fills and
// the child blocks; crashwrap holds at most one chunk (64 KiB) per stream.
// Waiting for our output never blocks the event loop, so signals and SIGCHLD
// are serviced meanwhile.
//
// crashwrap's own stdout/stderr file descriptions are shared with whoever
// started it (a shell, the container runtime), so O_NONBLOCK is never set on
// them. OutputWriter picks a safe scheme per kind of fd instead:
//   pipe / FIFO, tty    reopened through /proc/self/fd as a private non-blocking
//                       description of the same pipe or terminal;
//   socket              send(MSG_DONTWAIT);
//   regular file, /dev/null, other devices: plain write (they do not block);
//   pipe or tty that cannot be reopened: write at most PIPE_BUF bytes when
//                       poll says POLLOUT (the kernel then has room for them).
// A closed reader (EPIPE, or any other write error) makes the stream's output
// "closed": crashwrap keeps draining and analysing the child's output, drops
// the bytes, and says so once (diag::output_closed).
//
// After the child exits, child_exited() starts the drain grace: the pump keeps
// copying until EOF; when grandchildren still hold the pipe open at the end of
// the grace, it copies only what was already buffered in the pipe and stops.
//
// The fast path ("The fast path" in ARCHITECTURE.md): when the output is a
// pipe, a tty or a file, tee(2) duplicates the child's pipe into an internal
// pipe that the analysis reads, and splice(2) moves the original bytes to the
// output without a copy through user space (about 20% less CPU per GB in
// bench/passthrough.sh). EINVAL (an O_APPEND file, a device) falls back to
// read/write without losing or repeating a byte.
// Event loop only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "parsers/model.h"

namespace crashwrap::agent {

class OutputWriter {
 public:
  enum class Mode : std::uint8_t {
    Plain,      // blocking write; never waits (file, /dev/null)
    Private,    // private non-blocking reopen of a pipe or tty
    Socket,     // send(MSG_DONTWAIT)
    Bounded,    // ≤ PIPE_BUF per write after POLLOUT (pipe/tty that cannot be reopened)
    Discard,    // not open: everything is dropped silently
  };
  enum class Result : std::uint8_t { Done, WouldBlock, Closed, Unsupported };

  explicit OutputWriter(int fd);
  ~OutputWriter();
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  // Writes a prefix of `data` without blocking the caller for long and removes
  // it from `data`. Done: all written. WouldBlock: wait on wait_fd(). Closed:
  // the reader is gone (now and for every later call).
  Result write(std::string_view& data);
  // Moves up to `count` bytes from the head of pipe `pipe_fd` to the output
  // without copying them through user space (splice(2)); `count` is reduced
  // by what moved. Unsupported: this output cannot take splice (nothing moved;
  // use write()). Only in modes where splicing cannot block the event loop.
  Result splice_from(int pipe_fd, std::size_t& count);
  bool can_splice() const noexcept;
  // An fd that polls readable when writing can continue (a private epoll
  // instance watching the output); -1 in modes that never wait.
  int wait_fd() const noexcept { return epoll_fd_; }
  Mode mode() const noexcept { return mode_; }
  bool closed() const noexcept { return closed_; }

 private:
  Result write_bounded(std::string_view& data);

  int fd_;                 // the fd written to (own, or the private reopen)
  bool splice_ok_ = true;  // until the kernel said EINVAL
  int private_fd_ = -1;    // owned when Mode::Private
  int epoll_fd_ = -1;      // owned
  Mode mode_ = Mode::Plain;
  bool closed_ = false;
};

class Pump {
 public:
  // Every chunk read from the child, after it was handed to the output, with
  // the time it was read. The view is valid during the call only.
  using DataHandler = std::function<void(std::string_view bytes, parsers::Timestamp now)>;

  // Takes ownership of `child_fd` (the read end of the child's pipe; made
  // non-blocking here). `own_fd` stays crashwrap's and is never modified.
  // `on_finished` runs once, on the event loop, at EOF or when draining ends.
  Pump(boost::asio::io_context& io, parsers::Stream stream, int child_fd, int own_fd,
       DataHandler on_data, std::function<void()> on_finished);
  ~Pump();
  Pump(const Pump&) = delete;
  Pump& operator=(const Pump&) = delete;

  void start();
  // The child has exited: stop waiting for EOF after `drain_grace`.
  void child_exited(std::chrono::milliseconds drain_grace);

  bool finished() const noexcept { return finished_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }
  std::uint64_t bytes_dropped() const noexcept { return bytes_dropped_; }  // output closed
  OutputWriter::Mode output_mode() const noexcept { return writer_.mode(); }

 private:
  void read_some();
  void read_some_fast();
  void leave_fast_path();
  void wait_readable();
  void wait_writable();
  bool flush_pending();   // false while waiting for the output
  void grace_expired();
  void finish();

  parsers::Stream stream_;
  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor child_;
  OutputWriter writer_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> output_wait_;
  boost::asio::steady_timer grace_timer_;
  boost::asio::steady_timer retry_timer_;
  DataHandler on_data_;
  std::function<void()> on_finished_;
  std::unique_ptr<char[]> buffer_;       // kChunk bytes, not zeroed: a page costs only once used
  std::string_view pending_;              // part of buffer_ not yet written out
  // The fast path (pipes and files): tee(2) the child's pipe into tee_pipe_ for
  // analysis, splice(2) the original to the output. `spliced_left_` bytes of
  // the child's pipe have been copied for analysis but not moved out yet.
  bool fast_ = false;
  int tee_pipe_[2] = {-1, -1};
  std::size_t spliced_left_ = 0;
  std::size_t last_chunk_ = 0;            // bytes of the current chunk in buffer_
  std::optional<std::uint64_t> budget_;   // bytes left to drain once the grace is over
  bool waiting_output_ = false;
  bool finished_ = false;
  bool warned_closed_ = false;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_dropped_ = 0;
};

}  // namespace crashwrap::agent
