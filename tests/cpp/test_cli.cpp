// The CLI's contract: help, version, placeholders, and clear usage errors with exit status 2.
#include <gtest/gtest.h>

#include "test_helpers.h"

using clintorch::test::run_clintorch;

TEST(Cli, HelpListsEverySubcommand) {
  const auto r = run_clintorch("--help");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* name : {"train", "evaluate", "predict", "export", "tokenize", "validate"}) {
    EXPECT_NE(r.output.find(name), std::string::npos) << "missing " << name << " in\n" << r.output;
  }
}

TEST(Cli, VersionReportsLibTorchAndCuda) {
  const auto r = run_clintorch("--version");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("clintorch "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("LibTorch "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("CUDA: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("available: "), std::string::npos) << r.output;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* name : {"train", "evaluate", "predict", "export", "tokenize", "validate"}) {
    const auto r = run_clintorch(std::string(name) + " --help");
    EXPECT_EQ(r.status, 0) << name << ": " << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << name << ": " << r.output;
  }
}

TEST(Cli, NoCommandIsAUsageError) {
  const auto r = run_clintorch("");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("no command given"), std::string::npos) << r.output;
}

TEST(Cli, UnknownCommandSuggestsTheNearestOne) {
  const auto r = run_clintorch("trian");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown command 'trian'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'train'?"), std::string::npos) << r.output;
}

TEST(Cli, UnknownCommandFarFromAnyGetsNoSuggestion) {
  const auto r = run_clintorch("zzzzzzzzzz");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown command 'zzzzzzzzzz'"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("did you mean"), std::string::npos) << r.output;
}

TEST(Cli, UnknownRootOptionSuggestsTheNearestOne) {
  const auto r = run_clintorch("--versoin");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown option '--versoin'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean '--version'?"), std::string::npos) << r.output;
}

TEST(Cli, SelfcheckRuns) {
  const auto r = run_clintorch("selfcheck");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("selfcheck: ok"), std::string::npos) << r.output;
}
