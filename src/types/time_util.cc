#include "types/time_util.h"

#include <charconv>
#include <chrono>

namespace sluice {
namespace {

using namespace std::chrono;

// Reads exactly `n` digits at text[pos]; advances pos.
bool ReadDigits(std::string_view text, size_t& pos, int n, int& out) {
  if (pos + size_t(n) > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + size_t(i)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += size_t(n);
  return true;
}

bool ReadCivilDate(std::string_view text, size_t& pos, int64_t& days) {
  int y, m, d;
  if (!ReadDigits(text, pos, 4, y) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, m) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, d)) {
    return false;
  }
  year_month_day ymd{year{y}, month{unsigned(m)}, day{unsigned(d)}};
  if (!ymd.ok()) return false;
  days = sys_days{ymd}.time_since_epoch().count();
  return true;
}

}  // namespace

Result<int64_t> ParseDate(std::string_view text) {
  size_t pos = 0;
  int64_t days;
  if (!ReadCivilDate(text, pos, days) || pos != text.size()) {
    return InvalidArgument("invalid date '" + std::string(text) + "' (expected YYYY-MM-DD)");
  }
  return days;
}

Result<int64_t> ParseTimestamp(std::string_view text) {
  auto fail = [&] {
    return InvalidArgument("invalid timestamp '" + std::string(text) +
                           "' (expected RFC 3339, e.g. 2026-11-23T10:15:30.5Z)");
  };
  size_t pos = 0;
  int64_t days;
  if (!ReadCivilDate(text, pos, days)) return fail();
  int64_t micros = days * kMicrosPerDay;
  if (pos == text.size()) return micros;
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return fail();
  ++pos;
  int h, mi, s = 0;
  if (!ReadDigits(text, pos, 2, h) || pos >= text.size() || text[pos++] != ':' ||
      !ReadDigits(text, pos, 2, mi) || h > 23 || mi > 59) {
    return fail();
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!ReadDigits(text, pos, 2, s) || s > 60) return fail();
  }
  int64_t fraction = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) fraction = fraction * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return fail();
    for (int i = digits; i < 6; ++i) fraction *= 10;
  }
  micros += (int64_t(h) * 3600 + mi * 60 + s) * kMicrosPerSecond + fraction;
  if (pos < text.size()) {
    char z = text[pos];
    if (z == 'Z' || z == 'z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int oh, om = 0;
      if (!ReadDigits(text, pos, 2, oh)) return fail();
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (pos < text.size() && !ReadDigits(text, pos, 2, om)) return fail();
      int64_t offset = (int64_t(oh) * 3600 + om * 60) * kMicrosPerSecond;
      micros += z == '+' ? -offset : offset;
    }
  }
  if (pos != text.size()) return fail();
  return micros;
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto fail = [&] {
    return InvalidArgument("invalid duration '" + std::string(text) +
                           "' (expected e.g. 15m, 1h30m, 250ms, '10 seconds', 01:30:00 or ISO "
                           "8601 PT1H30M; months and years have no fixed length)");
  };
  std::string_view t = text;
  auto skip_spaces = [&] {
    while (!t.empty() && t[0] == ' ') t.remove_prefix(1);
  };
  skip_spaces();
  bool negative = false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  bool iso = false;
  if (!t.empty() && (t[0] == 'P' || t[0] == 'p')) {
    iso = true;
    t.remove_prefix(1);
  }
  if (t.empty()) return fail();
  double total = 0;
  bool in_time = !iso;
  while (true) {
    skip_spaces();
    if (t.empty()) break;
    if (iso && (t[0] == 'T' || t[0] == 't')) {
      in_time = true;
      t.remove_prefix(1);
      continue;
    }
    double sign = 1;
    if (!iso && (t[0] == '-' || t[0] == '+')) {
      sign = t[0] == '-' ? -1 : 1;
      t.remove_prefix(1);
    }
    double number;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), number);
    if (ec != std::errc() || ptr == t.data()) return fail();
    t.remove_prefix(size_t(ptr - t.data()));
    if (!iso && !t.empty() && t[0] == ':') {
      // A clock part: HH:MM[:SS[.ffffff]]
      double minutes, seconds = 0;
      t.remove_prefix(1);
      auto [p2, e2] = std::from_chars(t.data(), t.data() + t.size(), minutes);
      if (e2 != std::errc() || p2 == t.data()) return fail();
      t.remove_prefix(size_t(p2 - t.data()));
      if (!t.empty() && t[0] == ':') {
        t.remove_prefix(1);
        auto [p3, e3] = std::from_chars(t.data(), t.data() + t.size(), seconds);
        if (e3 != std::errc() || p3 == t.data()) return fail();
        t.remove_prefix(size_t(p3 - t.data()));
      }
      total += sign * (number * 3600e6 + minutes * 60e6 + seconds * 1e6);
      continue;
    }
    skip_spaces();
    size_t unit_len = 0;
    while (unit_len < t.size() && ((t[unit_len] | 0x20) >= 'a' && (t[unit_len] | 0x20) <= 'z')) {
      ++unit_len;
      if (iso) break;  // ISO units are one letter
    }
    std::string unit(t.substr(0, unit_len));
    for (auto& c : unit) c = char(c | 0x20);
    t.remove_prefix(unit_len);
    double scale = 0;
    if (unit.empty() && !iso) {
      scale = 1e6;  // a bare number is seconds, as in PostgreSQL
    } else if (unit == "d" || unit == "day" || unit == "days") {
      scale = 86400e6;
    } else if (!iso && (unit == "w" || unit == "week" || unit == "weeks")) {
      scale = 7 * 86400e6;
    } else if (unit == "h" || unit == "hour" || unit == "hours" || unit == "hr" || unit == "hrs") {
      scale = 3600e6;
    } else if (unit == "m") {
      scale = in_time ? 60e6 : 0;  // ISO 'M' before 'T' is months: refused
    } else if (!iso && (unit == "min" || unit == "mins" || unit == "minute" || unit == "minutes")) {
      scale = 60e6;
    } else if (unit == "s" || unit == "sec" || unit == "secs" || unit == "second" ||
               unit == "seconds") {
      scale = 1e6;
    } else if (!iso && (unit == "ms" || unit == "msec" || unit == "msecs" ||
                        unit == "millisecond" || unit == "milliseconds")) {
      scale = 1e3;
    } else if (!iso && (unit == "us" || unit == "usec" || unit == "usecs" ||
                        unit == "microsecond" || unit == "microseconds")) {
      scale = 1;
    }
    if (scale == 0) return fail();
    total += sign * number * scale;
  }
  // Written so NaN fails too: from_chars reads "nan" and "inf", and converting NaN to an
  // integer is undefined (found by tests/fuzz/value_codec_fuzz.cc; "nan" reached it as a filter
  // value, a CSV field or POST /auth/token's ttl).
  if (!(total <= 9.2e18 && total >= -9.2e18)) return fail();
  int64_t micros = int64_t(total >= 0 ? total + 0.5 : total - 0.5);
  return negative ? -micros : micros;
}

namespace {

// Writes v as exactly `width` digits (v >= 0) at p; returns the end. Hot in JSON output, so
// no printf, and whole timestamps are built in a buffer and appended once.
char* PutDigits(uint64_t v, int width, char* p) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = char('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// Writes "YYYY-MM-DD" (a '-' first for years before 0, five digits past 9999); returns the end.
char* PutDate(int64_t days, char* p) {
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  int y = int(ymd.year());
  if (y < 0) {
    *p++ = '-';
    y = -y;
  }
  p = PutDigits(uint64_t(y), y > 9999 ? 5 : 4, p);
  *p++ = '-';
  p = PutDigits(unsigned(ymd.month()), 2, p);
  *p++ = '-';
  return PutDigits(unsigned(ymd.day()), 2, p);
}

// Writes ".ffffff" with trailing zeros removed, nothing when frac is 0; returns the end.
char* PutFraction(uint64_t frac, char* p) {
  if (frac == 0) return p;
  int width = 6;
  while (frac % 10 == 0) {
    frac /= 10;
    --width;
  }
  *p++ = '.';
  return PutDigits(frac, width, p);
}

}  // namespace

void AppendDate(int64_t days, std::string* out) {
  char buf[16];
  out->append(buf, size_t(PutDate(days, buf) - buf));
}

void AppendTimestamp(int64_t micros, std::string* out) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  char buf[40];
  char* p = PutDate(days, buf);
  const int64_t secs = rest / kMicrosPerSecond;
  *p++ = 'T';
  p = PutDigits(uint64_t(secs / 3600), 2, p);
  *p++ = ':';
  p = PutDigits(uint64_t(secs / 60 % 60), 2, p);
  *p++ = ':';
  p = PutDigits(uint64_t(secs % 60), 2, p);
  p = PutFraction(uint64_t(rest % kMicrosPerSecond), p);
  *p++ = 'Z';
  out->append(buf, size_t(p - buf));
}

std::string FormatTimestamp(int64_t micros) {
  std::string out;
  AppendTimestamp(micros, &out);
  return out;
}

void AppendDuration(int64_t micros, std::string* out) {
  uint64_t mag = micros < 0 ? uint64_t(0) - uint64_t(micros) : uint64_t(micros);
  if (micros < 0) out->push_back('-');
  out->append("PT");
  uint64_t hours = mag / 3'600'000'000ULL;
  uint64_t minutes = mag / 60'000'000ULL % 60;
  uint64_t secs = mag / 1'000'000ULL % 60;
  uint64_t frac = mag % 1'000'000ULL;
  if (hours) out->append(std::to_string(hours) + "H");
  if (minutes) out->append(std::to_string(minutes) + "M");
  if (secs || frac || (!hours && !minutes)) {
    out->append(std::to_string(secs));
    char buf[8];
    out->append(buf, size_t(PutFraction(frac, buf) - buf));
    out->push_back('S');
  }
}

}  // namespace sluice
