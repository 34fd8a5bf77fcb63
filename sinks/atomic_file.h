// Small file-system helpers for the spool: crash-safe replacement of a file,
// bounded reads, directory listing. Plain syscalls; every function reports
// failure by value (an errno or nullopt), never throws. Any thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crashwrap::sinks {

// Makes `path` hold exactly `data` (mode 0600) so that a reader — or the next
// start after a crash or power loss — sees either the old file or the whole new
// one: writes `tmp_path` (created exclusively; same file system as `path`),
// fsyncs it, renames it over `path` and fsyncs the directory of `path`.
// Returns 0, or the errno of the first failing step (the tmp file is removed).
// With `durable` false the two fsyncs are skipped: readers still see the old
// or the whole new file, but a power loss may lose the new one.
int write_file_atomic(const std::string& tmp_path, const std::string& path, std::string_view data,
                      bool durable = true);

// fsync(2) of a directory, so a rename in it survives a crash. 0 or errno.
int fsync_dir(const std::string& dir);

// Creates `path` and any missing parents with `mode` (mkdir -p). 0 or errno
// (ENOTDIR when a component is a file).
int make_dirs(const std::string& path, mode_t mode);

// The whole file, or nullopt when it cannot be read or is larger than `max_bytes`.
// `err` (optional) receives the errno (EFBIG for too large).
std::optional<std::string> read_file(const std::string& path, std::size_t max_bytes,
                                     int* err = nullptr);
// The same from an open descriptor, read from offset 0 with pread(2).
std::optional<std::string> read_fd(int fd, std::size_t max_bytes);

// Entry names of a directory without "." and ".."; empty when unreadable.
std::vector<std::string> list_dir(const std::string& dir);

// The directory part of `path` ("." when there is none).
std::string parent_dir(const std::string& path);

}  // namespace crashwrap::sinks
