// Precompiled header for the torch-dependent parts of the library, the CLI and the tests.
// Only large, stable third-party headers belong here.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>
