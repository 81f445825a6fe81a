#include <gtest/gtest.h>

#include "util/error.h"
#include "util/strings.h"

namespace clintorch {

TEST(Strings, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("train", "trian"), 2u);
  EXPECT_EQ(edit_distance("learning_rate", "learning_rate"), 0u);
}

TEST(Strings, DidYouMean) {
  const std::vector<std::string> keys = {"learning_rate", "warmup_ratio", "weight_decay"};
  EXPECT_EQ(did_you_mean("learning_rat", keys), " (did you mean 'learning_rate'?)");
  EXPECT_EQ(did_you_mean("wramup_ratio", keys), " (did you mean 'warmup_ratio'?)");
  EXPECT_EQ(did_you_mean("batch_size", keys), "");
}

TEST(Errors, FormatNamesWhereWhatAndHint) {
  EXPECT_EQ(format_error("recipe.yaml:3:5", "unknown key 'lr'", "use learning_rate"),
            "recipe.yaml:3:5: unknown key 'lr'\n  hint: use learning_rate");
  EXPECT_THROW(fail("f", "w"), Error);
}

}  // namespace clintorch
