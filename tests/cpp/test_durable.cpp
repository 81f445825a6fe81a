// io/durable.h: CRC-32C against its published check value, and a sealed folder that
// verify_manifest accepts until a byte changes, a file shrinks or goes, or the manifest is gone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "io/durable.h"

namespace fs = std::filesystem;

TEST(Durable, Crc32cMatchesTheCheckValue) {
  // RFC 3720 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283.
  EXPECT_EQ(clintorch::io::crc32c("123456789", 9), 0xE3069283U);
  // Split input continues the same checksum; every length around the 8-byte loop agrees.
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over.";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const uint32_t a = clintorch::io::crc32c(text.data(), cut);
    EXPECT_EQ(clintorch::io::crc32c(text.data() + cut, text.size() - cut, a),
              clintorch::io::crc32c(text.data(), text.size()));
  }
}

TEST(Durable, SealedFolderVerifiesUntilItChanges) {
  const fs::path dir =
      fs::temp_directory_path() / ("clintorch_durable_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "a.bin") << std::string(100000, 'x');
  std::ofstream(dir / "sub" / "b.txt") << "hello";
  clintorch::io::seal_folder(dir.string());
  EXPECT_FALSE(clintorch::io::verify_manifest(dir.string()).has_value());

  {
    std::fstream f(dir / "a.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put('y');
  }
  auto problem = clintorch::io::verify_manifest(dir.string());
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("a.bin: its checksum does not match"), std::string::npos) << *problem;

  std::ofstream(dir / "a.bin") << std::string(10, 'x');
  problem = clintorch::io::verify_manifest(dir.string());
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("a.bin: 10 bytes, the manifest says 100000"), std::string::npos);

  fs::remove(dir / "sub" / "b.txt");
  clintorch::io::seal_folder(dir.string());  // resealed: a.bin as it is now, no b.txt
  EXPECT_FALSE(clintorch::io::verify_manifest(dir.string()).has_value());
  fs::remove(dir / "a.bin");
  problem = clintorch::io::verify_manifest(dir.string());
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(*problem, "a.bin: missing");

  fs::remove(dir / "manifest.json");
  problem = clintorch::io::verify_manifest(dir.string());
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->rfind("no manifest.json", 0), 0U);
  fs::remove_all(dir);
}
