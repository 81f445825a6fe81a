// One device grammar for recipes and every command (issue #17): auto | cpu | cuda | cuda:N.
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include "model/device.h"
#include "util/cuda_support.h"
#include "util/device_spec.h"
#include "util/error.h"

using clintorch::DeviceSpec;
using clintorch::parse_device_spec;

TEST(DeviceSpec, Grammar) {
  EXPECT_EQ(parse_device_spec("auto")->kind, DeviceSpec::Kind::kAuto);
  EXPECT_EQ(parse_device_spec("cpu")->kind, DeviceSpec::Kind::kCpu);
  EXPECT_EQ(parse_device_spec("cuda")->index, -1);
  EXPECT_EQ(parse_device_spec("cuda:3")->index, 3);
  for (const char* bad : {"", "gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", "cuda:1.0", "cuda:12345",
                          "cuda0", " cpu"}) {
    EXPECT_FALSE(parse_device_spec(bad).has_value()) << bad;
  }
}

TEST(DeviceSpec, SelectOnThisMachine) {
  EXPECT_TRUE(clintorch::model::select_device("cpu", "--device").is_cpu());
  clintorch::load_cuda_support();  // as the CLI does first thing
  const bool cuda = torch::cuda::is_available();
  EXPECT_EQ(clintorch::model::select_device("auto", "--device").is_cuda(), cuda);
  try {
    clintorch::model::select_device("gpu0", "r.yaml:3:9");
    FAIL();
  } catch (const clintorch::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("r.yaml:3:9"), std::string::npos) << m;
    EXPECT_NE(m.find("unknown device 'gpu0'"), std::string::npos) << m;
    EXPECT_NE(m.find("cuda:N"), std::string::npos) << m;
  }
  if (!cuda) {
    EXPECT_THROW(clintorch::model::select_device("cuda:0", "--device"), clintorch::Error);
  }
  EXPECT_THROW(clintorch::model::select_device("cuda:999", "--device"), clintorch::Error);
}
