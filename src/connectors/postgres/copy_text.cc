#include "connectors/postgres/copy_text.h"

namespace sluice {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status ParseCopyTextRow(std::string_view line, std::vector<std::optional<std::string>>& fields) {
  fields.clear();
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  size_t i = 0;
  while (true) {
    const size_t end = std::min(line.find('\t', i), line.size());
    std::string_view raw = line.substr(i, end - i);
    if (raw == "\\N") {
      fields.emplace_back();
    } else {
      std::string value;
      value.reserve(raw.size());
      for (size_t j = 0; j < raw.size(); ++j) {
        if (raw[j] != '\\') {
          value.push_back(raw[j]);
          continue;
        }
        if (++j >= raw.size()) return DataLoss("COPY row ends inside an escape");
        const char c = raw[j];
        switch (c) {
          case 'b':
            value.push_back('\b');
            break;
          case 'f':
            value.push_back('\f');
            break;
          case 'n':
            value.push_back('\n');
            break;
          case 'r':
            value.push_back('\r');
            break;
          case 't':
            value.push_back('\t');
            break;
          case 'v':
            value.push_back('\v');
            break;
          case 'x': {
            int v = 0, digits = 0;
            while (digits < 2 && j + 1 < raw.size() && HexDigit(raw[j + 1]) >= 0) {
              v = v * 16 + HexDigit(raw[++j]);
              ++digits;
            }
            if (digits == 0) {
              value.push_back('x');
            } else {
              value.push_back(char(v));
            }
            break;
          }
          default:
            if (c >= '0' && c <= '7') {
              int v = c - '0', digits = 1;
              while (digits < 3 && j + 1 < raw.size() && raw[j + 1] >= '0' && raw[j + 1] <= '7') {
                v = v * 8 + (raw[++j] - '0');
                ++digits;
              }
              value.push_back(char(v));
            } else {
              value.push_back(c);
            }
        }
      }
      fields.emplace_back(std::move(value));
    }
    if (end >= line.size()) break;
    i = end + 1;
  }
  return Status::OK();
}

}  // namespace sluice
