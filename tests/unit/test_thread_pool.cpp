#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "runtime/thread_pool.h"

namespace pocket {
namespace {

TEST(ThreadPool, EveryThreadRunsItsShareOnce) {
  for (int n : {1, 2, 3, 4, 7}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.size(), n);
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<int> hits(1000, 0);
      pool.run([&](int ith, int nth) {
        EXPECT_EQ(nth, n);
        int64_t b, e;
        split_range((int64_t)hits.size(), ith, nth, &b, &e);
        for (int64_t i = b; i < e; ++i) hits[(size_t)i]++;
      });
      for (int h : hits) ASSERT_EQ(h, 1);
    }
  }
}

TEST(ThreadPool, SplitRangeCoversExactly) {
  for (int64_t n : {0, 1, 5, 17, 1000}) {
    for (int nth = 1; nth <= 5; ++nth) {
      int64_t next = 0;
      for (int ith = 0; ith < nth; ++ith) {
        int64_t b, e;
        split_range(n, ith, nth, &b, &e);
        EXPECT_EQ(b, next);
        EXPECT_LE(e - b, n / nth + 1);
        next = e;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(ThreadPool, SurvivesIdlePeriods) {
  ThreadPool pool(3);
  std::atomic<int> count{0};
  for (int rep = 0; rep < 3; ++rep) {
    pool.run([&](int, int) { count++; });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers fall asleep
  }
  EXPECT_EQ(count.load(), 9);
}

}  // namespace
}  // namespace pocket
