#include "sinks/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <climits>

namespace crashwrap::sinks {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib: 16 selects the gzip wrapper (RFC 1952)
constexpr std::size_t kChunk = 64 * 1024;

std::optional<std::string> gzip_compress(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level < 0 ? 6 : level, Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return std::nullopt;
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  // deflateBound() guarantees one Z_FINISH call is enough for the whole input.
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

std::optional<std::string> zstd_compress(std::string_view data, int level) {
  // One context per thread, reused: creating one costs more than compressing
  // a small envelope (a batch of logs is saved every second or hundred lines).
  struct Context {
    ZSTD_CCtx* ctx = ZSTD_createCCtx();
    ~Context() { ZSTD_freeCCtx(ctx); }
  };
  thread_local Context local;
  ZSTD_CCtx* ctx = local.ctx;
  if (ctx == nullptr) return std::nullopt;
  ZSTD_CCtx_reset(ctx, ZSTD_reset_session_and_parameters);
  // The frame checksum lets a damaged spool file be told from a valid one.
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level < 0 ? 3 : level);
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
  std::string out;
  out.resize(ZSTD_compressBound(data.size()));
  const std::size_t n = ZSTD_compress2(ctx, out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n)) return std::nullopt;
  out.resize(n);
  return out;
}

Decoded gzip_decompress(std::string_view data, std::size_t max_output) {
  Decoded result;
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) return result;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[kChunk];
  int rc = Z_OK;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t got = sizeof buf - zs.avail_out;
    if (out.size() + got > max_output) {
      inflateEnd(&zs);
      result.status = DecodeStatus::TooLarge;
      return result;
    }
    out.append(buf, got);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Concatenated gzip members form one stream (RFC 1952 §2.2).
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;  // Z_BUF_ERROR here means the input ended mid-stream
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.avail_in != 0) return result;
  result.status = DecodeStatus::Ok;
  result.data = std::move(out);
  return result;
}

Decoded zstd_decompress(std::string_view data, std::size_t max_output) {
  Decoded result;
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return result;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::string out;
  char buf[kChunk];
  std::size_t last = 0;
  for (;;) {
    ZSTD_outBuffer ob{buf, sizeof buf, 0};
    last = ZSTD_decompressStream(ctx, &ob, &in);
    if (ZSTD_isError(last)) break;
    if (out.size() + ob.pos > max_output) {
      ZSTD_freeDCtx(ctx);
      result.status = DecodeStatus::TooLarge;
      return result;
    }
    out.append(buf, ob.pos);
    // Input used up and either a frame just ended or the decoder had room to
    // spare: nothing more will come (another call would ask for a new frame).
    if (in.pos == in.size && (last == 0 || ob.pos < ob.size)) break;
  }
  ZSTD_freeDCtx(ctx);
  if (ZSTD_isError(last) || last != 0) return result;  // error, or a truncated frame
  result.status = DecodeStatus::Ok;
  result.data = std::move(out);
  return result;
}

}  // namespace

Codec codec_for(config::Compression c) noexcept {
  switch (c) {
    case config::Compression::Gzip: return Codec::Gzip;
    case config::Compression::Zstd: return Codec::Zstd;
    case config::Compression::None: return Codec::None;
  }
  return Codec::None;
}

std::string_view content_encoding(Codec c) noexcept {
  switch (c) {
    case Codec::Gzip: return "gzip";
    case Codec::Zstd: return "zstd";
    case Codec::None: return "";
  }
  return "";
}

Codec detect_codec(std::string_view d) noexcept {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(d[i]); };
  if (d.size() >= 2 && byte(0) == 0x1f && byte(1) == 0x8b) return Codec::Gzip;
  if (d.size() >= 4 && byte(0) == 0x28 && byte(1) == 0xb5 && byte(2) == 0x2f && byte(3) == 0xfd)
    return Codec::Zstd;
  return Codec::None;
}

std::optional<std::string> compress(std::string_view data, Codec codec, int level) {
  switch (codec) {
    case Codec::Gzip:
      if (data.size() > UINT_MAX) return std::nullopt;  // zlib counts in uInt
      return gzip_compress(data, level);
    case Codec::Zstd: return zstd_compress(data, level);
    case Codec::None: return std::string(data);
  }
  return std::nullopt;
}

Decoded decompress(std::string_view data, Codec codec, std::size_t max_output) {
  switch (codec) {
    case Codec::Gzip:
      if (data.size() > UINT_MAX) return Decoded{};
      return gzip_decompress(data, max_output);
    case Codec::Zstd: return zstd_decompress(data, max_output);
    case Codec::None:
      if (data.size() > max_output) return Decoded{DecodeStatus::TooLarge, {}};
      return Decoded{DecodeStatus::Ok, std::string(data)};
  }
  return Decoded{};
}

}  // namespace crashwrap::sinks
