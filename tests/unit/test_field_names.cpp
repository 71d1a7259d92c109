// Library errors name options by their API names; front ends rename them (core/field_names.h).
#include <gtest/gtest.h>

#include "core/field_names.h"
#include "sampling/sampler.h"

namespace pocket {
namespace {

const FieldNames kCliLike = {{"n_ctx", "--ctx"},
                             {"max_batch", "--batch"},
                             {"temperature", "--temp"},
                             {"vocab", "--draft-vocab"},
                             {"vocab_text", "--draft-vocab-text"},
                             {"calib.n_ctx", "--calib-ctx"},
                             {"kv_k_type", "--kv-type-k"},
                             {"kv_k_type/kv_v_type", "--kv-type"}};

TEST(FieldNames, FieldErrorNamesTheField) {
  const Status s = field_error("temperature", "must be a finite number");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "temperature");
  EXPECT_EQ(s.message(), "temperature must be a finite number");
  EXPECT_EQ(with_field_names(s, kCliLike), "--temp must be a finite number");
  EXPECT_EQ(field_name_of(s, kCliLike), "--temp");
  EXPECT_EQ(field_name_of(s, {{"n_ctx", "--ctx"}}), "") << "a field the front end does not have";
}

TEST(FieldNames, WholeWordsOnly) {
  const Status s(ErrorCode::kInvalidArgument, "max_n_ctx_x n_ctx2 xn_ctx n_ctx, (n_ctx) n_ctx");
  EXPECT_EQ(with_field_names(s, kCliLike), "max_n_ctx_x n_ctx2 xn_ctx --ctx, (--ctx) --ctx");
  EXPECT_EQ(with_field_names(Status(ErrorCode::kInvalidArgument, "vocabulary sizes differ"), kCliLike), "vocabulary sizes differ");
}

TEST(FieldNames, SeveralFieldsInOneMessage) {
  const Status s(ErrorCode::kResourceLimit, "n_ctx 512: needs 9 MiB; use a smaller n_ctx, max_batch or kv_k_type/kv_v_type", "n_ctx");
  EXPECT_EQ(with_field_names(s, kCliLike), "--ctx 512: needs 9 MiB; use a smaller --ctx, --batch or --kv-type");
  // The longest name at a place wins, and replacements are not renamed again.
  EXPECT_EQ(with_field_names(Status(ErrorCode::kInvalidArgument, "vocab_text, vocab and calib.n_ctx"), kCliLike),
            "--draft-vocab-text, --draft-vocab and --calib-ctx");
  EXPECT_EQ(with_field_names(Status(ErrorCode::kInvalidArgument, "kv_k_type only"), kCliLike), "--kv-type-k only");
}

TEST(FieldNames, NoFieldLeavesTheMessage) {
  const Status s(ErrorCode::kIoError, "model.gguf: cannot open");
  EXPECT_EQ(s.field(), "");
  EXPECT_EQ(with_field_names(s, kCliLike), "model.gguf: cannot open");
  EXPECT_EQ(with_field_names(s, {}), "model.gguf: cannot open");
  EXPECT_EQ(field_name_of(s, kCliLike), "");
  EXPECT_EQ(with_field_names(Status(ErrorCode::kInvalidArgument, ""), kCliLike), "");
}

TEST(FieldNames, SamplingErrorsNameTheirField) {
  SamplingParams p;
  p.top_p = 0.0f;
  const Status s = p.validate();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.field(), "top_p");
  EXPECT_EQ(s.message(), "top_p must be in (0, 1]");
  p = SamplingParams();
  p.penalty_last_n = -1;
  EXPECT_EQ(p.validate().field(), "penalty_last_n");
}

}  // namespace
}  // namespace pocket
