// Element types of checkpoint tensors, as named by safetensors ("F32", "BF16", ...).
#pragma once

#include <c10/core/ScalarType.h>

#include <cstddef>
#include <optional>
#include <string>

namespace clintorch::io {

enum class DType { kBool, kU8, kI8, kI16, kI32, kI64, kF16, kBF16, kF32, kF64 };

// Bytes per element.
size_t element_size(DType dtype);
// The safetensors spelling: "BOOL", "U8", "I8", "I16", "I32", "I64", "F16", "BF16", "F32", "F64".
std::string dtype_name(DType dtype);
// Parses the safetensors spelling; nullopt for anything else (F8_*, U16, ...).
std::optional<DType> parse_dtype(const std::string& name);
// The comma-separated list of supported spellings, for error hints.
std::string supported_dtype_names();

c10::ScalarType to_scalar_type(DType dtype);
// Throws clintorch::Error for tensor types that have no safetensors spelling here (complex, ...).
DType from_scalar_type(c10::ScalarType type);

}  // namespace clintorch::io
