// Body compression for envelopes: gzip (zlib) for HTTP by default, zstd for
// servers that take it and for the spool at rest. Pure functions, no shared
// state: callable from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace crashwrap::sinks {

enum class Codec : std::uint8_t { None, Gzip, Zstd };

Codec codec_for(config::Compression c) noexcept;

// The HTTP `Content-Encoding` value: "gzip" | "zstd" | "" (None).
std::string_view content_encoding(Codec c) noexcept;

// Recognises a compressed body by its magic bytes (gzip 1f 8b, zstd 28 b5 2f fd);
// anything else is None.
Codec detect_codec(std::string_view data) noexcept;

// Compresses `data` into a complete gzip member (RFC 1952) or zstd frame.
// `level` < 0 picks the codec's default (gzip 6, zstd 3). None copies.
// nullopt only when the library fails (out of memory).
std::optional<std::string> compress(std::string_view data, Codec codec, int level = -1);

enum class DecodeStatus : std::uint8_t {
  Ok,
  Corrupt,   // not a valid stream of that codec, or truncated
  TooLarge,  // the output would exceed max_output
};

struct Decoded {
  DecodeStatus status = DecodeStatus::Corrupt;
  std::string data;  // the whole output when Ok, empty otherwise
};

// Decompresses one gzip stream (concatenated members accepted) or zstd frames.
// Never produces more than `max_output` bytes: a larger output is TooLarge,
// so a hostile or damaged file cannot exhaust memory. None copies (bounded too).
Decoded decompress(std::string_view data, Codec codec, std::size_t max_output);

}  // namespace crashwrap::sinks
