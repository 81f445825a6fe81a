#include "io/dtype.h"

#include <array>
#include <utility>

#include "util/error.h"

namespace clintorch::io {
namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
  c10::ScalarType scalar;
};

constexpr std::array<DTypeInfo, 10> kTypes{{
    {DType::kBool, "BOOL", 1, c10::ScalarType::Bool},
    {DType::kU8, "U8", 1, c10::ScalarType::Byte},
    {DType::kI8, "I8", 1, c10::ScalarType::Char},
    {DType::kI16, "I16", 2, c10::ScalarType::Short},
    {DType::kI32, "I32", 4, c10::ScalarType::Int},
    {DType::kI64, "I64", 8, c10::ScalarType::Long},
    {DType::kF16, "F16", 2, c10::ScalarType::Half},
    {DType::kBF16, "BF16", 2, c10::ScalarType::BFloat16},
    {DType::kF32, "F32", 4, c10::ScalarType::Float},
    {DType::kF64, "F64", 8, c10::ScalarType::Double},
}};

const DTypeInfo& info(DType dtype) {
  return kTypes.at(static_cast<size_t>(dtype));
}

}  // namespace

size_t element_size(DType dtype) {
  return info(dtype).size;
}
std::string dtype_name(DType dtype) {
  return info(dtype).name;
}
c10::ScalarType to_scalar_type(DType dtype) {
  return info(dtype).scalar;
}

std::optional<DType> parse_dtype(const std::string& name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return t.dtype;
  }
  return std::nullopt;
}

std::string supported_dtype_names() {
  std::string out;
  for (const auto& t : kTypes) out += (out.empty() ? "" : ", ") + std::string(t.name);
  return out;
}

DType from_scalar_type(c10::ScalarType type) {
  for (const auto& t : kTypes) {
    if (t.scalar == type) return t.dtype;
  }
  fail("safetensors", std::string("tensor type ") + c10::toString(type) + " cannot be stored",
       "supported: " + supported_dtype_names());
}

}  // namespace clintorch::io
