// LEB128 varints and zigzag mapping, shared by the row codec and the cache's metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

inline uint64_t ZigZag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
inline int64_t UnZigZag(uint64_t u) { return int64_t(u >> 1) ^ -int64_t(u & 1); }
inline unsigned __int128 ZigZag128(__int128 v) {
  return (static_cast<unsigned __int128>(v) << 1) ^ static_cast<unsigned __int128>(v >> 127);
}
inline __int128 UnZigZag128(unsigned __int128 u) {
  return static_cast<__int128>(u >> 1) ^ -static_cast<__int128>(u & 1);
}

inline void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(char(v | 0x80));
    v >>= 7;
  }
  out->push_back(char(v));
}

inline void AppendVarint128(unsigned __int128 v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(char(uint8_t(v) | 0x80));
    v >>= 7;
  }
  out->push_back(char(v));
}

// Reads varints and byte runs from a buffer; every read is bounds-checked and returns
// nullopt on truncated or overlong input.
class VarintReader {
 public:
  explicit VarintReader(std::string_view data) : data_(data) {}

  std::optional<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      uint8_t b = uint8_t(data_[pos_++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    return std::nullopt;
  }

  std::optional<unsigned __int128> Varint128() {
    unsigned __int128 v = 0;
    for (int shift = 0; shift < 128 && pos_ < data_.size(); shift += 7) {
      uint8_t b = uint8_t(data_[pos_++]);
      v |= static_cast<unsigned __int128>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    return std::nullopt;
  }

  std::optional<std::string_view> Bytes(uint64_t n) {
    if (n > data_.size() - pos_) return std::nullopt;
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }

  bool done() const { return pos_ == data_.size(); }
  size_t position() const { return pos_; }  // bytes read so far

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace sluice
