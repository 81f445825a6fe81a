// Reading input files for the dataset readers: streaming lines with line numbers, UTF-8
// checks, RFC 4180 CSV/TSV records, JSON with the line of every object, and code-point <-> byte
// offset conversion. Every error names FILE:LINE and never quotes the text (it may hold PHI).
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace clintorch::data {

// "FILE:LINE" (or "FILE" when line is 0), for error messages.
std::string where(const std::string& file, size_t line);

// Reads a whole file. Throws clintorch::Error naming the file when it cannot be read.
std::string read_file(const std::string& path);

// Byte index of the first ill-formed UTF-8 sequence in `s`, or npos when `s` is valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are ill-formed).
size_t find_invalid_utf8(std::string_view s);

// Throws "FILE:LINE: invalid UTF-8 at byte N of the line" (with a re-encoding hint) when `s` is
// not valid UTF-8. `column_base` is added to the reported byte position.
void check_utf8(std::string_view s, const std::string& file, size_t line, size_t column_base = 0);
// The same for a whole text (a file read at once): the error names the line and the byte of it.
void check_utf8_text(std::string_view text, const std::string& file);

// Streams a text file line by line. Lines are returned without "\n" / "\r\n"; a UTF-8 byte-order
// mark at the start of the file is dropped. Every line is checked to be valid UTF-8.
class LineReader {
 public:
  // Opens `path`; throws clintorch::Error when it cannot be opened or is a directory.
  explicit LineReader(const std::string& path, bool check_utf8 = true);
  // Reads the next line into `line`; false at the end of the file.
  bool next(std::string& line);
  // 1-based number of the line returned last (0 before the first).
  size_t line_number() const { return line_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  size_t line_ = 0;
  bool check_utf8_ = true;
};

// How a delimited file is split into fields.
struct CsvDialect {
  // Field delimiter. Default ','.
  char delimiter = ',';
  // RFC 4180 quoting: a field starting with '"' runs to the matching '"' (doubled quotes are a
  // literal quote) and may hold delimiters and newlines. Off for BLUE-style TSV, whose sentences
  // contain bare quotes. Default true.
  bool quoting = true;
};

// Streams the records of a CSV/TSV file. Empty lines between records are skipped.
class CsvReader {
 public:
  CsvReader(const std::string& path, const CsvDialect& dialect);
  // Reads the next record; false at the end of the file. Throws on an unterminated quote or a
  // character after a closing quote (FILE:LINE of the record).
  bool next(std::vector<std::string>& fields);
  // Line where the record returned last starts (1-based).
  size_t record_line() const { return record_line_; }
  const std::string& path() const { return lines_.path(); }

 private:
  LineReader lines_;
  CsvDialect dialect_;
  size_t record_line_ = 0;
};

// Parses a JSON document, throwing "FILE:LINE:COLUMN: invalid JSON" on a syntax error (never the
// text itself). Every object in the result gets a hidden key (see json_line) holding the line
// where it starts; `first_line` is the line number of the first byte of `text`.
nlohmann::json parse_json_with_lines(std::string_view text, const std::string& file,
                                     size_t first_line = 1);
// Parses one JSON value without line annotations; errors as above.
nlohmann::json parse_json(std::string_view text, const std::string& file, size_t line);
// The line recorded by parse_json_with_lines for an object, or `fallback`.
size_t json_line(const nlohmann::json& object, size_t fallback = 0);
// The hidden key used for the line numbers.
const char* json_line_key();

// Byte offset where each code point of a valid UTF-8 string starts, plus a final entry equal to
// s.size(): result[i] is the byte offset of code point i (Python str index i).
std::vector<uint32_t> code_point_starts(std::string_view s);
// Number of code points of a valid UTF-8 string.
size_t code_point_count(std::string_view s);

// Removes leading Unicode whitespace (Python str.lstrip()).
std::string_view lstrip_unicode(std::string_view s);
// Removes leading and trailing Unicode whitespace (Python str.strip()).
std::string_view strip_unicode(std::string_view s);

// Splits on runs of ASCII whitespace (space, tab), dropping empty fields.
std::vector<std::string_view> split_whitespace(std::string_view s);
// Splits on every occurrence of `sep` (keeps empty fields).
std::vector<std::string_view> split(std::string_view s, char sep);

// The lower-cased extension of a path without the dot ("csv"), or "".
std::string file_extension(const std::string& path);

}  // namespace clintorch::data
