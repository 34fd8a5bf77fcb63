#include "agent/pump.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include <boost/asio/post.hpp>

#include "agent/diag.h"

namespace crashwrap::agent {

namespace {
constexpr std::size_t kChunk = 64 * 1024;
constexpr int kBurst = 16;  // chunks per wake-up before yielding to other work
}  // namespace

OutputWriter::OutputWriter(int fd) : fd_(fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    mode_ = Mode::Discard;
    return;
  }
  if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && ::isatty(fd))) {
    // A new open file description of the same pipe/terminal: O_NONBLOCK on it
    // is ours alone, unlike on the description we inherited.
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    private_fd_ = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (private_fd_ >= 0) {
      fd_ = private_fd_;
      mode_ = Mode::Private;
    } else {
      mode_ = Mode::Bounded;
    }
  } else if (S_ISSOCK(st.st_mode)) {
    mode_ = Mode::Socket;
  } else {
    mode_ = Mode::Plain;
    return;
  }
  // A private epoll instance tells when the output is writable again; watching
  // an fd with epoll does not change its file status flags.
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev {};
  ev.events = EPOLLOUT;
  if (epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &ev) != 0) {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    epoll_fd_ = -1;
    if (private_fd_ >= 0) ::close(private_fd_);
    private_fd_ = -1;
    fd_ = fd;
    mode_ = Mode::Plain;
  }
}

OutputWriter::~OutputWriter() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (private_fd_ >= 0) ::close(private_fd_);
}

OutputWriter::Result OutputWriter::write(std::string_view& data) {
  if (closed_) return Result::Closed;
  if (mode_ == Mode::Discard) {
    data = {};
    return Result::Done;
  }
  if (mode_ == Mode::Bounded) return write_bounded(data);
  while (!data.empty()) {
    ssize_t n = mode_ == Mode::Socket
                    ? ::send(fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                    : ::write(fd_, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Result::WouldBlock;
    if (n < 0 && errno == ENOTSOCK && mode_ == Mode::Socket) {
      mode_ = Mode::Plain;
      continue;
    }
    closed_ = true;
    return Result::Closed;
  }
  return Result::Done;
}

OutputWriter::Result OutputWriter::write_bounded(std::string_view& data) {
  while (!data.empty()) {
    struct pollfd p {fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return Result::WouldBlock;
    // POLLOUT on a pipe means a free buffer slot: PIPE_BUF bytes go in at once.
    ssize_t n = ::write(fd_, data.data(), std::min<std::size_t>(data.size(), PIPE_BUF));
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Result::WouldBlock;
    closed_ = true;
    return Result::Closed;
  }
  return Result::Done;
}

bool OutputWriter::can_splice() const noexcept {
  return splice_ok_ && !closed_ && (mode_ == Mode::Private || mode_ == Mode::Plain);
}

OutputWriter::Result OutputWriter::splice_from(int pipe_fd, std::size_t& count) {
  if (closed_) return Result::Closed;
  if (!can_splice()) return Result::Unsupported;
  while (count > 0) {
    // SPLICE_F_NONBLOCK makes the pipe ends non-blocking for this call only;
    // the output itself is our private non-blocking reopen or a file.
    ssize_t n = ::splice(pipe_fd, nullptr, fd_, nullptr, count, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      count -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Result::WouldBlock;
    if (n < 0 && errno == EINVAL) {
      splice_ok_ = false;  // e.g. an O_APPEND file on an old kernel, a device
      return Result::Unsupported;
    }
    closed_ = true;
    return Result::Closed;
  }
  return Result::Done;
}

Pump::Pump(boost::asio::io_context& io, parsers::Stream stream, int child_fd, int own_fd,
           DataHandler on_data, std::function<void()> on_finished)
    : stream_(stream),
      io_(io),
      child_(io),
      writer_(own_fd),
      grace_timer_(io),
      retry_timer_(io),
      on_data_(std::move(on_data)),
      on_finished_(std::move(on_finished)),
      buffer_(new char[kChunk]) {
  ::fcntl(child_fd, F_SETFL, ::fcntl(child_fd, F_GETFL) | O_NONBLOCK);  // our own pipe end
  boost::system::error_code ec;
  child_.assign(child_fd, ec);
  if (writer_.wait_fd() >= 0) {
    int dup = ::fcntl(writer_.wait_fd(), F_DUPFD_CLOEXEC, 3);
    if (dup >= 0) {
      output_wait_ = std::make_unique<boost::asio::posix::stream_descriptor>(io, dup);
    }
  }
  if (writer_.can_splice() && ::pipe2(tee_pipe_, O_CLOEXEC | O_NONBLOCK) == 0) fast_ = true;
}

Pump::~Pump() {
  for (int fd : tee_pipe_) {
    if (fd >= 0) ::close(fd);
  }
  boost::system::error_code ec;
  child_.close(ec);
  if (output_wait_) output_wait_->close(ec);
}

void Pump::start() { read_some(); }

void Pump::read_some() {
  if (fast_) return read_some_fast();
  for (int burst = 0; burst < kBurst; ++burst) {
    std::size_t want = kChunk;
    if (budget_) {
      if (*budget_ == 0) return finish();
      want = std::min<std::uint64_t>(want, *budget_);
    }
    ssize_t n = ::read(child_.native_handle(), buffer_.get(), want);
    if (n > 0) {
      const auto len = static_cast<std::size_t>(n);
      bytes_read_ += len;
      if (budget_) *budget_ -= len;
      pending_ = std::string_view(buffer_.get(), len);
      const auto now = parsers::Clock::now();
      const bool flushed = flush_pending();  // passthrough first, analysis second
      on_data_(std::string_view(buffer_.get(), len), now);
      if (!flushed) return wait_writable();
      continue;
    }
    if (n == 0) return finish();
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (budget_) return finish();  // grace over and the pipe is empty
      return wait_readable();
    }
    return finish();
  }
  boost::asio::post(io_, [this] {
    if (!finished_) read_some();
  });
}

void Pump::read_some_fast() {
  for (int burst = 0; burst < kBurst; ++burst) {
    std::size_t want = kChunk;
    if (budget_) {
      if (*budget_ == 0) return finish();
      want = std::min<std::uint64_t>(want, *budget_);
    }
    ssize_t n = ::tee(child_.native_handle(), tee_pipe_[1], want, SPLICE_F_NONBLOCK);
    if (n == 0) return finish();  // no writer left and nothing buffered
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && budget_) return finish();
      if (errno == EAGAIN) return wait_readable();
      fast_ = false;  // the kernel will not tee this pipe: plain read/write
      return read_some();
    }
    const auto len = static_cast<std::size_t>(n);
    std::size_t got = 0;
    while (got < len) {  // the copy is all there: tee just put it in
      ssize_t r = ::read(tee_pipe_[0], buffer_.get() + got, len - got);
      if (r > 0) got += static_cast<std::size_t>(r);
      else if (r < 0 && errno == EINTR) continue;
      else break;
    }
    bytes_read_ += len;
    if (budget_) *budget_ -= len;
    spliced_left_ = len;
    last_chunk_ = got;
    const auto now = parsers::Clock::now();
    const bool flushed = flush_pending();  // passthrough first, analysis second
    on_data_(std::string_view(buffer_.get(), got), now);
    if (!flushed) return wait_writable();
  }
  boost::asio::post(io_, [this] {
    if (!finished_) read_some();
  });
}

// The output cannot take splice after all (or is gone): consume from the
// child's pipe what was already copied for analysis and hand the copy to the
// plain path, which writes it (or drops it when the output is closed).
void Pump::leave_fast_path() {
  std::size_t left = spliced_left_;
  char scratch[4096];
  while (left > 0) {
    ssize_t r = ::read(child_.native_handle(), scratch, std::min(left, sizeof scratch));
    if (r > 0) left -= static_cast<std::size_t>(r);
    else if (r < 0 && errno == EINTR) continue;
    else break;
  }
  fast_ = false;
  pending_ = std::string_view(buffer_.get() + last_chunk_ - spliced_left_, spliced_left_);
  spliced_left_ = 0;
}

void Pump::wait_readable() {
  child_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this](const boost::system::error_code& ec) {
                      // operation_aborted: the drain grace ended (see grace_expired).
                      if (finished_) return;
                      if (ec && ec != boost::asio::error::operation_aborted) return finish();
                      read_some();
                    });
}

bool Pump::flush_pending() {
  if (spliced_left_ > 0) {
    const auto r = writer_.splice_from(child_.native_handle(), spliced_left_);
    if (r == OutputWriter::Result::Done) return true;
    if (r == OutputWriter::Result::WouldBlock) return false;
    leave_fast_path();  // Unsupported or Closed: the plain path below takes over
  }
  if (pending_.empty()) return true;
  if (writer_.write(pending_) == OutputWriter::Result::Closed) {
    if (!warned_closed_) {
      warned_closed_ = true;
      diag::output_closed(parsers::stream_name(stream_));
    }
    bytes_dropped_ += pending_.size();
    pending_ = {};
  }
  return pending_.empty();
}

void Pump::wait_writable() {
  waiting_output_ = true;
  auto resume = [this](const boost::system::error_code& ec) {
    waiting_output_ = false;
    if (finished_ || ec) return;
    if (!flush_pending()) return wait_writable();
    read_some();
  };
  if (output_wait_) {
    output_wait_->async_wait(boost::asio::posix::stream_descriptor::wait_read, resume);
  } else {
    // An output that said EAGAIN without a way to wait for it (someone else set
    // O_NONBLOCK on a file-like fd): retry shortly.
    retry_timer_.expires_after(std::chrono::milliseconds(1));
    retry_timer_.async_wait(resume);
  }
}

void Pump::child_exited(std::chrono::milliseconds drain_grace) {
  if (finished_) return;
  grace_timer_.expires_after(drain_grace);
  grace_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !finished_) grace_expired();
  });
}

void Pump::grace_expired() {
  // Copy what is already in the pipe, then stop: whoever still holds the
  // write end (a grandchild) may never close it.
  int available = 0;
  if (::ioctl(child_.native_handle(), FIONREAD, &available) != 0) available = 0;
  // Bytes teed but not yet spliced out are still in the pipe: they are not new.
  const auto buffered = static_cast<std::uint64_t>(std::max(available, 0));
  budget_ = buffered > spliced_left_ ? buffered - spliced_left_ : 0;
  if (!waiting_output_) {
    boost::system::error_code ec;
    child_.cancel(ec);  // wakes wait_readable's handler, which reads the rest
  }
}

void Pump::finish() {
  if (finished_) return;
  finished_ = true;
  grace_timer_.cancel();
  retry_timer_.cancel();
  boost::system::error_code ec;
  child_.close(ec);
  if (output_wait_) output_wait_->close(ec);
  if (on_finished_) on_finished_();
}

}  // namespace crashwrap::agent
