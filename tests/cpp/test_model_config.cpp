// BertConfig from config.json: defaults, unknown fields kept for export, and an error naming the
// field for every unsupported or malformed value.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/config.h"
#include "util/error.h"

using clintorch::model::BertConfig;
using json = nlohmann::json;

namespace {

// Expects from_json to fail with a message containing every needle.
void expect_config_error(const json& j, std::initializer_list<std::string> needles) {
  try {
    BertConfig::from_json(j, "cfg/config.json");
    FAIL() << "accepted " << j.dump();
  } catch (const clintorch::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cfg/config.json"), std::string::npos) << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

}  // namespace

TEST(BertConfig, ReadsEveryFieldAndKeepsTheRest) {
  const json j = {{"architectures", {"BertForTokenClassification"}},
                  {"model_type", "bert"},
                  {"vocab_size", 28996},
                  {"hidden_size", 384},
                  {"num_hidden_layers", 6},
                  {"num_attention_heads", 12},
                  {"intermediate_size", 1536},
                  {"hidden_act", "gelu_new"},
                  {"hidden_dropout_prob", 0.2},
                  {"attention_probs_dropout_prob", 0},
                  {"max_position_embeddings", 256},
                  {"type_vocab_size", 1},
                  {"initializer_range", 0.05},
                  {"layer_norm_eps", 1e-7},
                  {"pad_token_id", nullptr},
                  {"position_embedding_type", "absolute"},
                  {"classifier_dropout", 0.3},
                  {"id2label", {{"0", "O"}, {"1", "B-X"}}},
                  {"label2id", {{"O", 0}, {"B-X", 1}}},
                  {"gradient_checkpointing", false}};
  const BertConfig c = BertConfig::from_json(j, "config.json");
  EXPECT_EQ(c.vocab_size, 28996);
  EXPECT_EQ(c.hidden_size, 384);
  EXPECT_EQ(c.num_hidden_layers, 6);
  EXPECT_EQ(c.head_dim(), 32);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.hidden_act, "gelu_new");
  EXPECT_DOUBLE_EQ(c.hidden_dropout_prob, 0.2);
  EXPECT_DOUBLE_EQ(c.attention_probs_dropout_prob, 0.0);
  EXPECT_EQ(c.max_position_embeddings, 256);
  EXPECT_EQ(c.type_vocab_size, 1);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-7);
  EXPECT_FALSE(c.pad_token_id.has_value());
  ASSERT_TRUE(c.classifier_dropout.has_value());
  EXPECT_DOUBLE_EQ(*c.classifier_dropout, 0.3);
  EXPECT_EQ(c.extra.at("id2label").at("1"), "B-X");
  EXPECT_EQ(c.extra.at("architectures")[0], "BertForTokenClassification");
  EXPECT_FALSE(c.extra.contains("hidden_size"));

  // Written back: every field, the extras verbatim, and it reads back equal.
  const json out = c.to_json();
  EXPECT_EQ(out.at("label2id").at("B-X"), 1);
  EXPECT_EQ(out.at("gradient_checkpointing"), false);
  EXPECT_TRUE(out.at("pad_token_id").is_null());
  const BertConfig again = BertConfig::from_json(out, "out/config.json");
  EXPECT_EQ(again.to_json(), out);
}

TEST(BertConfig, EmptyObjectGivesBertBaseDefaults) {
  const BertConfig c = BertConfig::from_json(json::object(), "config.json");
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_hidden_layers, 12);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_EQ(c.pad_token_id, 0);
}

TEST(BertConfig, UnsupportedValuesNameTheField) {
  expect_config_error({{"hidden_act", "gelu_neww"}},
                      {"hidden_act", "gelu_neww", "did you mean 'gelu_new'"});
  expect_config_error({{"hidden_act", "mish"}}, {"hidden_act", "supported: gelu"});
  expect_config_error({{"position_embedding_type", "relative_key"}},
                      {"position_embedding_type", "relative_key"});
  expect_config_error({{"is_decoder", true}}, {"is_decoder"});
  expect_config_error({{"add_cross_attention", true}}, {"add_cross_attention"});
  expect_config_error({{"model_type", "roberta"}}, {"model_type", "roberta"});
  expect_config_error({{"embedding_size", 128}}, {"embedding_size"});
  expect_config_error({{"hidden_size", 100}, {"num_attention_heads", 12}},
                      {"hidden_size", "num_attention_heads"});
  expect_config_error({{"pad_token_id", 40000}}, {"pad_token_id", "40000"});
  expect_config_error({{"hidden_dropout_prob", 1.5}}, {"hidden_dropout_prob"});
  expect_config_error({{"layer_norm_eps", 0}}, {"layer_norm_eps"});
  expect_config_error({{"vocab_size", 0}}, {"vocab_size"});
}

TEST(BertConfig, WrongTypesNameTheFieldAndValue) {
  expect_config_error({{"hidden_size", "768"}}, {"hidden_size", "expected an integer", "\"768\""});
  expect_config_error({{"num_hidden_layers", 12.5}}, {"num_hidden_layers", "expected an integer"});
  expect_config_error({{"hidden_act", 3}}, {"hidden_act", "expected a string"});
  expect_config_error({{"layer_norm_eps", "small"}}, {"layer_norm_eps", "expected a number"});
  expect_config_error(json::array({1, 2}), {"not a JSON object"});
}

TEST(BertConfig, LoadNamesTheFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("clintorch_cfg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  try {
    BertConfig::load(dir.string());
    FAIL();
  } catch (const clintorch::Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "config.json").string()), std::string::npos);
  }
  std::ofstream(dir / "config.json") << "{\"hidden_size\": 32,";
  try {
    BertConfig::load(dir.string());
    FAIL();
  } catch (const clintorch::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "config.json") << R"({"hidden_size": 32, "num_attention_heads": 4})";
  EXPECT_EQ(BertConfig::load(dir.string()).hidden_size, 32);
  std::filesystem::remove_all(dir);
}
