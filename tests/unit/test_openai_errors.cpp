// Library errors reach a server client under the request's JSON names (openai_api.h request_error).
#include <gtest/gtest.h>

#include "sampling/sampler.h"
#include "server/openai_api.h"

namespace pocket {
namespace {

TEST(OpenAiErrors, LibraryFieldsBecomeJsonParams) {
  SamplingParams p;
  p.top_p = 0.0f;
  const ApiError e = request_error(p.validate());
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "top_p");
  EXPECT_EQ(e.message, "top_p must be in (0, 1]");
  EXPECT_EQ(e.body()["error"]["param"], "top_p");
  // Fields with another name in the request: max_tokens, stop.
  const ApiError n = request_error(field_error("n_predict", "must be >= 1; stop_strings too"));
  EXPECT_EQ(n.param, "max_tokens");
  EXPECT_EQ(n.message, "max_tokens must be >= 1; stop too");
}

TEST(OpenAiErrors, OptionsARequestCannotSetGiveNoParam) {
  // The server's own context (--ctx) is no request parameter: no param, and the hint names the server's flag.
  const ApiError e = request_error(Status(ErrorCode::kOutOfRange, "prompt has 300 tokens but the context is 256 (raise n_ctx)", "n_ctx"));
  EXPECT_EQ(e.param, "");
  EXPECT_TRUE(e.body()["error"]["param"].is_null());
  EXPECT_EQ(e.message, "prompt has 300 tokens but the context is 256 (raise the server's --ctx)");
  EXPECT_EQ(request_error(Status(ErrorCode::kInvalidArgument, "messages[0].role: bad")).param, "");
}

}  // namespace
}  // namespace pocket
