#include "util/error.h"

namespace clintorch {

std::string format_error(const std::string& where, const std::string& what,
                         const std::string& hint) {
  std::string message = where.empty() ? what : where + ": " + what;
  if (!hint.empty()) message += "\n  hint: " + hint;
  return message;
}

void fail(const std::string& where, const std::string& what, const std::string& hint) {
  throw Error(format_error(where, what, hint));
}

}  // namespace clintorch
