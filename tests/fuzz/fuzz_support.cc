#include "fuzz_support.h"

#include "types/utf8.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <type_traits>

namespace sluice::fuzz {
namespace {

FailureHandler g_handler = nullptr;

std::string& ScratchRoot() {
  static std::string root;
  return root;
}

void RemoveScratch() {
  if (ScratchRoot().empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(ScratchRoot(), ec);
}

}  // namespace

void Fail(const char* file, int line, const std::string& message) {
  std::string full = std::string(file) + ":" + std::to_string(line) + ": " + message;
  if (g_handler) g_handler(full);
  std::fprintf(stderr, "\n==== Sluice fuzz contract violated ====\n%s\n", full.c_str());
  std::fflush(stderr);
  std::abort();
}

void SetFailureHandler(FailureHandler handler) { g_handler = handler; }

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { spdlog::set_level(spdlog::level::off); });
}

bool IsValidJson(std::string_view text, bool allow_big_integers) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element doc;
  const auto error = parser.parse(padded).get(doc);
  if (error == simdjson::NUMBER_ERROR && allow_big_integers) {
    // (simdjson reports integers beyond 64 bits as NUMBER_ERROR.) Shorten every run of more than 18
    // digits (a string's too, harmlessly; \u escapes have 4) to "0" and parse again.
    std::string small;
    for (size_t i = 0; i < text.size();) {
      size_t run = 0;
      while (i + run < text.size() && text[i + run] >= '0' && text[i + run] <= '9') ++run;
      if (run > 18) {
        small.push_back('0');
        i += run;
      } else if (run > 0) {
        small.append(text.substr(i, run));
        i += run;
      } else {
        small.push_back(text[i++]);
      }
    }
    simdjson::padded_string again(small);
    return parser.parse(again).get(doc) == simdjson::SUCCESS;
  }
  return error == simdjson::SUCCESS;
}

std::string Describe(const Status& status) {
  return std::string(StatusCodeName(status.code())) + ": " + Printable(status.message());
}

std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && out.size() < 200; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(char(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (out.size() >= 200) out += "...";
  return out;
}

std::string ScratchDir(const std::string& name) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (ScratchRoot().empty()) {
    const char* base = std::filesystem::is_directory("/dev/shm") && ::access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : nullptr;
    std::filesystem::path root =
        base ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
    root /= "sluice_fuzz_" + std::to_string(::getpid());
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root);
    ScratchRoot() = root.string();
    std::atexit(RemoveScratch);
  }
  std::string dir = ScratchRoot() + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

bool ValueFits(FieldType type, const Value& value) {
  if (value.is_null()) return true;
  return value.Visit([type](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    switch (type) {
      case FieldType::kBoolean:
        return std::is_same_v<V, bool>;
      case FieldType::kInt:
      case FieldType::kDate:
      case FieldType::kTimestamp:
      case FieldType::kDuration:
        return std::is_same_v<V, int64_t>;
      case FieldType::kUInt:
        return std::is_same_v<V, uint64_t>;
      case FieldType::kFloat:
        return std::is_same_v<V, double>;
      case FieldType::kDecimal:
        return std::is_same_v<V, Decimal>;
      case FieldType::kString:
      case FieldType::kText:
      case FieldType::kBinary:
      case FieldType::kJson:
        return std::is_same_v<V, std::string>;
      case FieldType::kPoint:
        return std::is_same_v<V, Point>;
    }
    return false;
  });
}

namespace {

std::optional<std::string> Minified(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  return std::string(simdjson::minify(doc));
}

}  // namespace

bool SameValue(FieldType type, const Value& a, const Value& b) {
  const bool text = type == FieldType::kString || type == FieldType::kText;
  if (text && !a.is_null() && !b.is_null()) {
    return ReplaceInvalidUtf8(a.as_string()) == ReplaceInvalidUtf8(b.as_string());
  }
  if (type == FieldType::kFloat && !a.is_null() && !b.is_null()) return a == b;
  if (type == FieldType::kDuration && !a.is_null() && !b.is_null()) {
    // Durations are parsed through a double (time_util.cc): exact to the microsecond within
    // 2^53 us (285 years), relatively exact to 2^-52 beyond.
    const int64_t x = a.as_int(), y = b.as_int();
    const double diff = std::fabs(double(x) - double(y));
    return x == y || diff <= std::fabs(double(x)) * 0x1p-51;
  }
  if (type == FieldType::kJson && !a.is_null() && !b.is_null()) {
    auto x = Minified(a.as_string()), y = Minified(b.as_string());
    return x && y && *x == *y;
  }
  return IdenticalRecords({a}, {b});
}

std::string_view TakeLine(std::string_view* rest) {
  const size_t nl = rest->find('\n');
  std::string_view line = rest->substr(0, nl);
  *rest = nl == std::string_view::npos ? std::string_view() : rest->substr(nl + 1);
  return line;
}

}  // namespace sluice::fuzz
