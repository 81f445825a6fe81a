// Error types shared by every layer. Messages say where (file:line or key), what (the bad value)
// and what to do (a hint). They never quote training or input text: clinical text may hold PHI.
#pragma once

#include <stdexcept>
#include <string>

namespace clintorch {

// A problem with the user's input (files, recipes, arguments). The CLI prints it and exits 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Bad command-line usage. The CLI prints it and exits 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// Builds "WHERE: WHAT\n  hint: HINT" (the hint line only when a hint is given).
std::string format_error(const std::string& where, const std::string& what,
                         const std::string& hint = "");

// Throws Error(format_error(where, what, hint)).
[[noreturn]] void fail(const std::string& where, const std::string& what,
                       const std::string& hint = "");

}  // namespace clintorch
