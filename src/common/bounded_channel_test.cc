#include "common/bounded_channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sluice {
namespace {

TEST(BoundedChannel, DeliversInOrderAndDrainsAfterClose) {
  BoundedChannel<int> ch(4);
  ASSERT_TRUE(ch.Push(1));
  ASSERT_TRUE(ch.Push(2));
  ch.Close();
  EXPECT_FALSE(ch.Push(3));
  EXPECT_EQ(ch.Pop(), 1);
  EXPECT_EQ(ch.Pop(), 2);
  EXPECT_EQ(ch.Pop(), std::nullopt);
  EXPECT_TRUE(ch.closed_and_empty());
}

TEST(BoundedChannel, PushBlocksWhileFull) {
  BoundedChannel<int> ch(2);
  ASSERT_TRUE(ch.Push(1));
  ASSERT_TRUE(ch.Push(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    ASSERT_TRUE(ch.Push(3));
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pushed.load()) << "Push must wait for room";
  EXPECT_EQ(ch.Pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(ch.size(), 2u);
}

TEST(BoundedChannel, ManyProducersLoseNothing) {
  BoundedChannel<int> ch(8);
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < 1000; ++i) ASSERT_TRUE(ch.Push(p * 1000 + i));
    });
  }
  long long sum = 0;
  for (int i = 0; i < 4000; ++i) sum += *ch.Pop();
  for (auto& t : producers) t.join();
  EXPECT_EQ(sum, 3999LL * 4000 / 2);
}

}  // namespace
}  // namespace sluice
