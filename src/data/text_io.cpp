#include "data/text_io.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"
#include "util/utf8.h"

namespace clintorch::data {

std::string where(const std::string& file, size_t line) {
  return line ? file + ":" + std::to_string(line) : file;
}

namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

[[noreturn]] void fail_open(const std::string& path) {
  if (is_directory(path)) fail(path, "is a directory, expected a file");
  fail(path, std::string("cannot open file (") + std::strerror(errno) + ")",
       "check the path in the recipe or on the command line");
}

}  // namespace

std::string read_file(const std::string& path) {
  errno = 0;
  if (is_directory(path)) fail(path, "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_open(path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  return data;
}

size_t find_invalid_utf8(std::string_view s) {
  return utf8::find_invalid(s);
}

void check_utf8(std::string_view s, const std::string& file, size_t line, size_t column_base) {
  const size_t bad = find_invalid_utf8(s);
  if (bad == std::string_view::npos) return;
  fail(where(file, line),
       "invalid UTF-8 at byte " + std::to_string(column_base + bad + 1) + " of the line",
       "the file must be UTF-8; re-encode it, e.g. `iconv -f latin1 -t utf-8 IN > OUT`");
}

void check_utf8_text(std::string_view text, const std::string& file) {
  const size_t bad = find_invalid_utf8(text);
  if (bad == std::string_view::npos) return;
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + bad, '\n'));
  const size_t nl = bad == 0 ? std::string_view::npos : text.rfind('\n', bad - 1);
  const size_t start = nl == std::string_view::npos ? 0 : nl + 1;
  check_utf8(text.substr(start, bad + 1 - start), file, line);
}

// ------------------------------------------------------------------------------- LineReader

LineReader::LineReader(const std::string& path, bool check) : path_(path), check_utf8_(check) {
  errno = 0;
  if (is_directory(path)) fail(path, "is a directory, expected a file");
  in_.open(path, std::ios::binary);
  if (!in_) fail_open(path);
}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) fail(where(path_, line_ + 1), "read error");
    return false;
  }
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line_ == 1 && line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF &&
      static_cast<unsigned char>(line[1]) == 0xBB && static_cast<unsigned char>(line[2]) == 0xBF) {
    line.erase(0, 3);
  }
  if (check_utf8_) check_utf8(line, path_, line_);
  return true;
}

// ------------------------------------------------------------------------------- CsvReader

CsvReader::CsvReader(const std::string& path, const CsvDialect& dialect)
    : lines_(path), dialect_(dialect) {}

bool CsvReader::next(std::vector<std::string>& fields) {
  fields.clear();
  std::string line;
  // Skip empty lines between records.
  do {
    if (!lines_.next(line)) return false;
  } while (line.empty());
  record_line_ = lines_.line_number();
  const char delim = dialect_.delimiter;
  if (!dialect_.quoting) {
    for (auto f : split(line, delim)) fields.emplace_back(f);
    return true;
  }
  std::string field;
  size_t i = 0;
  for (;;) {
    // At the start of a field.
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) {
          // The quoted field continues on the next line (a newline inside the field).
          std::string more;
          if (!lines_.next(more)) {
            fail(where(path(), record_line_), "unterminated quoted field (a '\"' is never closed)",
                 "quote fields as in RFC 4180: double every '\"' inside a quoted field");
          }
          field.push_back('\n');
          line = std::move(more);
          i = 0;
          continue;
        }
        const char c = line[i];
        if (c == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;  // closing quote
          break;
        }
        field.push_back(c);
        ++i;
      }
      if (i < line.size() && line[i] != delim) {
        fail(where(path(), lines_.line_number()),
             "unexpected character after a closing quote in field " +
                 std::to_string(fields.size() + 1),
             "quote fields as in RFC 4180: double every '\"' inside a quoted field");
      }
    } else {
      const size_t end = line.find(delim, i);
      const size_t stop = end == std::string::npos ? line.size() : end;
      field.assign(line, i, stop - i);
      i = stop;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the delimiter
    if (i == line.size()) {
      fields.emplace_back();  // trailing delimiter: one more empty field
      break;
    }
  }
  return true;
}

// ------------------------------------------------------------------------------- JSON

namespace {

constexpr const char* kLineKey = "\x01line";

struct LineTable {
  std::vector<size_t> newlines;  // byte offsets of '\n'
  explicit LineTable(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') newlines.push_back(i);
    }
  }
  // 0-based line and column of byte `pos`.
  std::pair<size_t, size_t> locate(size_t pos) const {
    const auto it = std::lower_bound(newlines.begin(), newlines.end(), pos);
    const size_t line = static_cast<size_t>(it - newlines.begin());
    const size_t line_start = line == 0 ? 0 : newlines[line - 1] + 1;
    return {line, pos - line_start};
  }
};

// An input iterator over the text that publishes how many bytes were consumed.
struct CountingIterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  const char* p = nullptr;
  const char* base = nullptr;
  size_t* consumed = nullptr;
  reference operator*() const { return *p; }
  CountingIterator& operator++() {
    ++p;
    if (consumed) *consumed = static_cast<size_t>(p - base);
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p == o.p; }
  bool operator!=(const CountingIterator& o) const { return p != o.p; }
};

// Builds the DOM and records the line of every object's '{'.
class LineSax {
 public:
  using json = nlohmann::json;
  LineSax(json& root, const size_t* consumed, const LineTable& lines, size_t first_line,
          const std::string& file)
      : root_(root), consumed_(consumed), lines_(lines), first_line_(first_line), file_(file) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& v) { return put(json(json::binary_t(std::move(v)))); }
  bool start_object(std::size_t) {
    json* obj = put_container(json::object());
    // The '{' was the last byte consumed.
    const size_t pos = *consumed_ > 0 ? *consumed_ - 1 : 0;
    (*obj)[kLineKey] = first_line_ + lines_.locate(pos).first;
    return true;
  }
  bool key(json::string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    put_container(json::array());
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    const size_t pos = position > 0 ? position - 1 : 0;
    const auto lc = lines_.locate(pos);
    fail(file_ + ":" + std::to_string(first_line_ + lc.first) + ":" + std::to_string(lc.second + 1),
         "invalid JSON", "check the brackets, quotes and commas near that position");
  }

 private:
  bool put(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
    } else if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
    } else {
      (*stack_.back())[key_] = std::move(v);
    }
    return true;
  }
  json* put_container(json&& v) {
    json* slot = nullptr;
    if (stack_.empty()) {
      root_ = std::move(v);
      slot = &root_;
    } else if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      slot = &stack_.back()->back();
    } else {
      slot = &((*stack_.back())[key_] = std::move(v));
    }
    stack_.push_back(slot);
    return slot;
  }

  json& root_;
  const size_t* consumed_;
  const LineTable& lines_;
  size_t first_line_;
  const std::string& file_;
  std::vector<json*> stack_;
  std::string key_;
};

}  // namespace

const char* json_line_key() {
  return kLineKey;
}

nlohmann::json parse_json_with_lines(std::string_view text, const std::string& file,
                                     size_t first_line) {
  nlohmann::json root;
  LineTable lines(text);
  size_t consumed = 0;
  LineSax sax(root, &consumed, lines, first_line, file);
  CountingIterator begin{text.data(), text.data(), &consumed};
  CountingIterator end{text.data() + text.size(), text.data(), nullptr};
  nlohmann::json::sax_parse(begin, end, &sax);
  return root;
}

nlohmann::json parse_json(std::string_view text, const std::string& file, size_t line) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const size_t pos = e.byte > 0 ? e.byte - 1 : 0;
    const auto lc = LineTable(text).locate(std::min(pos, text.size()));
    fail(file + ":" + std::to_string(line + lc.first) + ":" + std::to_string(lc.second + 1),
         "invalid JSON", "each line of a JSONL file must be one JSON object");
  } catch (const nlohmann::json::exception&) {  // out_of_range 406: a number past double's range
    fail(file + ":" + std::to_string(line), "invalid JSON: a number is out of range",
         "numbers must fit a 64-bit float");
  }
}

size_t json_line(const nlohmann::json& object, size_t fallback) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(kLineKey);
  if (it == object.end() || !it->is_number_unsigned()) return fallback;
  return it->get<size_t>();
}

// ------------------------------------------------------------------------------- Unicode

std::vector<uint32_t> code_point_starts(std::string_view s) {
  std::vector<uint32_t> starts;
  starts.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
      starts.push_back(static_cast<uint32_t>(i));
  }
  starts.push_back(static_cast<uint32_t>(s.size()));
  return starts;
}

size_t code_point_count(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

namespace {

// The code point at s[at..end) and its length; length 0 when it is not valid UTF-8.
size_t space_at(std::string_view s, size_t at, size_t end, bool& space) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  char32_t cp = 0;
  bool valid = false;
  const size_t n = utf8::decode(p + at, p + end, cp, valid);
  space = valid && utf8::is_python_space(cp);
  return valid ? n : 0;
}

}  // namespace

std::string_view lstrip_unicode(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    bool space = false;
    const size_t n = space_at(s, i, s.size(), space);
    if (!space) break;
    i += n;
  }
  return s.substr(i);
}

std::string_view strip_unicode(std::string_view s) {
  s = lstrip_unicode(s);
  // Walk backwards over whole code points.
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    bool space = false;
    space_at(s, start, end, space);
    if (!space) break;
    end = start;
  }
  return s.substr(0, end);
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string file_extension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace clintorch::data
