// Model resolution (io/model_path.h): local folders, HF model ids from a fake HF cache tree
// (refs/main indirection, @revision, @commit), the error for a missing model, and the places
// that accept a model id (tokenizer, recipe).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "io/model_path.h"
#include "test_helpers.h"
#include "tokenizer/tokenizer.h"
#include "train/recipe.h"
#include "util/error.h"

namespace fs = std::filesystem;
using clintorch::io::hf_hub_cache_dir;
using clintorch::io::looks_like_model_id;
using clintorch::io::resolve_model_dir;
using clintorch::test::TempDir;

namespace {

// Sets (or unsets, for nullopt) an environment variable for the scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

const char* kMainHash = "0123456789abcdef0123456789abcdef01234567";
const char* kTagHash = "fedcba9876543210fedcba9876543210fedcba98";

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// $HF_HOME/hub/models--acme--tiny-bert with two snapshots: refs/main -> kMainHash (a newline at
// the end, as huggingface_hub writes none but editors add one), refs/v1 -> kTagHash.
struct FakeCache {
  TempDir home;
  ScopedEnv hf_home{"HF_HOME", home.path()};
  ScopedEnv hub_cache{"HF_HUB_CACHE", std::nullopt};
  ScopedEnv legacy_cache{"HUGGINGFACE_HUB_CACHE", std::nullopt};
  fs::path repo = fs::path(home.path()) / "hub" / "models--acme--tiny-bert";

  FakeCache() {
    write_file(repo / "refs" / "main", std::string(kMainHash) + "\n");
    write_file(repo / "refs" / "v1", kTagHash);
    for (const char* hash : {kMainHash, kTagHash}) {
      write_file(repo / "snapshots" / hash / "config.json", "{\"model_type\": \"bert\"}");
      write_file(repo / "snapshots" / hash / "vocab.txt",
                 std::string("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n") +
                     (hash == kMainHash ? "main\n" : "tag\nextra\n"));
    }
  }
  std::string snapshot(const char* hash) const { return (repo / "snapshots" / hash).string(); }
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const clintorch::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(ModelPath, ModelIdShape) {
  EXPECT_TRUE(looks_like_model_id("emilyalsentzer/Bio_ClinicalBERT"));
  EXPECT_TRUE(looks_like_model_id("bert-base-uncased"));
  EXPECT_TRUE(looks_like_model_id("org/name@main"));
  EXPECT_TRUE(looks_like_model_id("org/name@refs/pr/1"));
  EXPECT_FALSE(looks_like_model_id("/abs/path"));
  EXPECT_FALSE(looks_like_model_id("./rel"));
  EXPECT_FALSE(looks_like_model_id("a/b/c"));
  EXPECT_FALSE(looks_like_model_id("org/na--me"));
  EXPECT_FALSE(looks_like_model_id("org/name@../../etc"));
  EXPECT_FALSE(looks_like_model_id(""));
}

TEST(ModelPath, CacheFolderFollowsHuggingfaceHub) {
  ScopedEnv a("HF_HUB_CACHE", std::nullopt), b("HUGGINGFACE_HUB_CACHE", std::nullopt),
      c("HF_HOME", std::nullopt), d("XDG_CACHE_HOME", std::nullopt), e("HOME", "/home/u");
  EXPECT_EQ(hf_hub_cache_dir(), "/home/u/.cache/huggingface/hub");
  ScopedEnv f("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(hf_hub_cache_dir(), "/xdg/huggingface/hub");
  ScopedEnv g("HF_HOME", "/hf");
  EXPECT_EQ(hf_hub_cache_dir(), "/hf/hub");
  ScopedEnv h("HF_HUB_CACHE", "/hubcache");
  EXPECT_EQ(hf_hub_cache_dir(), "/hubcache");
}

TEST(ModelPath, ResolvesRefsMainFromFakeCache) {
  FakeCache cache;
  EXPECT_EQ(resolve_model_dir("acme/tiny-bert"), cache.snapshot(kMainHash));
  EXPECT_EQ(resolve_model_dir("acme/tiny-bert@main"), cache.snapshot(kMainHash));
  // HF_HUB_CACHE wins over HF_HOME.
  ScopedEnv hub("HF_HUB_CACHE", cache.home.path("hub"));
  ScopedEnv home("HF_HOME", "/nonexistent-hf-home");
  EXPECT_EQ(resolve_model_dir("acme/tiny-bert"), cache.snapshot(kMainHash));
}

TEST(ModelPath, ResolvesRevisionsAndCommits) {
  FakeCache cache;
  EXPECT_EQ(resolve_model_dir("acme/tiny-bert@v1"), cache.snapshot(kTagHash));
  EXPECT_EQ(resolve_model_dir(std::string("acme/tiny-bert@") + kTagHash), cache.snapshot(kTagHash));
  const std::string msg = message_of([] { resolve_model_dir("acme/tiny-bert@v2", "--model"); });
  EXPECT_NE(msg.find("--model: model acme/tiny-bert is in the HuggingFace cache but has no "
                     "revision 'v2'"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("huggingface-cli download acme/tiny-bert --revision v2"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find(kMainHash), std::string::npos) << msg;  // lists the cached snapshots
}

TEST(ModelPath, MissingModelSaysHowToDownloadIt) {
  FakeCache cache;
  const std::string msg =
      message_of([] { resolve_model_dir("emilyalsentzer/Bio_ClinicalBERT", "--model"); });
  const std::string where =
      (fs::path(cache.home.path()) / "hub" / "models--emilyalsentzer--Bio_ClinicalBERT").string();
  EXPECT_EQ(msg.rfind("--model: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("huggingface-cli download emilyalsentzer/Bio_ClinicalBERT"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("hf download emilyalsentzer/Bio_ClinicalBERT"), std::string::npos) << msg;
  EXPECT_NE(msg.find(where), std::string::npos) << msg;
  EXPECT_NE(msg.find("local model directory"), std::string::npos) << msg;
  // A snapshot named by refs/main but missing (interrupted download).
  fs::remove_all(cache.repo / "snapshots" / kMainHash);
  const std::string partial = message_of([] { resolve_model_dir("acme/tiny-bert"); });
  EXPECT_NE(partial.find("points to commit"), std::string::npos) << partial;
  EXPECT_NE(partial.find("huggingface-cli download acme/tiny-bert"), std::string::npos) << partial;
  // Not an id and not a folder.
  const std::string path_msg = message_of([] { resolve_model_dir("/no/such/model/dir"); });
  EXPECT_EQ(path_msg.rfind("/no/such/model/dir: no such directory", 0), 0u) << path_msg;
}

TEST(ModelPath, ExistingRelativeDirectoryWins) {
  FakeCache cache;
  TempDir work;
  fs::create_directories(fs::path(work.path()) / "acme" / "tiny-bert");
  const fs::path old = fs::current_path();
  fs::current_path(work.path());
  const std::string got = resolve_model_dir("acme/tiny-bert");
  fs::current_path(old);
  EXPECT_EQ(got, "acme/tiny-bert");
}

TEST(ModelPath, TokenizerAndRecipeAcceptModelIds) {
  FakeCache cache;
  const auto tk = clintorch::tok::Tokenizer::from_dir("acme/tiny-bert@v1");
  EXPECT_EQ(tk.vocab_size(), 7u);  // the v1 snapshot's vocab.txt
  EXPECT_EQ(clintorch::tok::Tokenizer::from_dir("acme/tiny-bert").vocab_size(), 6u);

  TempDir dir;
  dir.write("train.conll", "Chest O\n");
  const std::string rest =
      "task: {name: token_classification}\ndata: {train_file: train.conll}\n"
      "output: {output_dir: " +
      dir.path("out") + "}\n";
  const auto r = clintorch::train::load_recipe_from_string(
      "model: {pretrained: acme/tiny-bert}\n" + rest, "inline.yaml", dir.path(), {});
  EXPECT_EQ(r.model.pretrained, cache.snapshot(kMainHash));
  const std::string msg = message_of([&] {
    clintorch::train::load_recipe_from_string("model:\n  pretrained: acme/other-model\n" + rest,
                                              "inline.yaml", dir.path(), {});
  });
  EXPECT_NE(msg.find("inline.yaml:2:15: model.pretrained"), std::string::npos) << msg;
  EXPECT_NE(msg.find("huggingface-cli download acme/other-model"), std::string::npos) << msg;
}
