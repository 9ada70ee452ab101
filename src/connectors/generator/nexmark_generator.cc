#include "connectors/generator/nexmark_generator.h"

#include <array>
#include <cmath>
#include <string_view>

namespace sluice {
namespace {

// A small, fast, well-mixed generator seeded per event (splitmix64 steps).
class EventRandom {
 public:
  EventRandom(uint64_t seed, uint64_t event)
      : state_(seed * 0x9E3779B97F4A7C15ULL ^ (event + 1) * 0xD1B54A32D192ED03ULL) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  double Unit() { return double(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

constexpr std::array<std::string_view, 12> kFirstNames = {"Peter", "Paul",   "Luke",   "John",
                                                          "Saul",  "Vicky",  "Kate",   "Julie",
                                                          "Sarah", "Deiter", "Walter", "Ana"};
constexpr std::array<std::string_view, 10> kLastNames = {"Shultz",  "Abrams", "Spencer", "White",
                                                         "Bartels", "Walton", "Smith",   "Jones",
                                                         "Noris",   "Okafor"};
constexpr std::array<std::string_view, 10> kCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, 4> kChannels = {"Google", "Facebook", "Baidu", "Apple"};
constexpr std::array<std::string_view, 16> kWords = {
    "vintage", "red",   "oak",    "table", "lamp",   "camera", "rare",    "signed",
    "blue",    "shoes", "silver", "watch", "poster", "guitar", "antique", "mint"};
constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyz";

std::string RandomLetters(EventRandom& rng, size_t n) {
  std::string s(n, 'a');
  for (auto& c : s) c = kLetters[rng.Below(26)];
  return s;
}

std::string RandomWords(EventRandom& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s.push_back(' ');
    s.append(kWords[rng.Below(kWords.size())]);
  }
  return s;
}

int64_t EventTime(uint64_t event) {
  return NexmarkGenerator::kBaseTimeMicros + int64_t(event) * NexmarkGenerator::kMicrosPerEvent;
}

// Ids of the newest person and auction that exist when `event` happens.
int64_t LastPersonId(uint64_t event) {
  return NexmarkGenerator::kFirstPersonId + int64_t(event / NexmarkGenerator::kEventsPerBlock);
}
int64_t LastAuctionId(uint64_t event) {
  uint64_t block = event / NexmarkGenerator::kEventsPerBlock;
  uint64_t offset = event % NexmarkGenerator::kEventsPerBlock;
  int64_t made_in_block = int64_t(std::min<uint64_t>(offset, 3));  // auctions at offsets 1..3
  return NexmarkGenerator::kFirstAuctionId + int64_t(block) * 3 + made_in_block - 1;
}

// Prices in cents, log-uniform between 1 and about 10^6.
int64_t Price(EventRandom& rng) { return int64_t(std::pow(10.0, rng.Unit() * 6)) + 1; }

}  // namespace

NexmarkGenerator::Table NexmarkGenerator::TableOf(uint64_t event) {
  uint64_t offset = event % kEventsPerBlock;
  if (offset == 0) return Table::kPerson;
  if (offset < 4) return Table::kAuction;
  return Table::kBid;
}

uint64_t NexmarkGenerator::NextEventOf(Table table, uint64_t event) {
  uint64_t block = event / kEventsPerBlock;
  uint64_t offset = event % kEventsPerBlock;
  switch (table) {
    case Table::kPerson:
      return offset == 0 ? event : (block + 1) * kEventsPerBlock;
    case Table::kAuction:
      if (offset == 0) return event + 1;
      return offset < 4 ? event : (block + 1) * kEventsPerBlock + 1;
    case Table::kBid:
      return offset < 4 ? block * kEventsPerBlock + 4 : event;
  }
  return event;
}

Schema NexmarkGenerator::SchemaOf(Table table) {
  auto f = [](const char* name, FieldType type) { return Field{name, type, false}; };
  switch (table) {
    case Table::kPerson:
      return Schema{{f("id", FieldType::kInt), f("name", FieldType::kString),
                     f("email_address", FieldType::kString), f("credit_card", FieldType::kString),
                     f("city", FieldType::kString), f("state", FieldType::kString),
                     f("date_time", FieldType::kTimestamp), f("extra", FieldType::kString)},
                    {0}};
    case Table::kAuction:
      return Schema{{f("id", FieldType::kInt), f("item_name", FieldType::kString),
                     f("description", FieldType::kString), f("initial_bid", FieldType::kInt),
                     f("reserve", FieldType::kInt), f("date_time", FieldType::kTimestamp),
                     f("expires", FieldType::kTimestamp), f("seller", FieldType::kInt),
                     f("category", FieldType::kInt), f("extra", FieldType::kString)},
                    {0}};
    case Table::kBid:
      return Schema{
          {f("auction", FieldType::kInt), f("bidder", FieldType::kInt), f("price", FieldType::kInt),
           f("channel", FieldType::kString), f("url", FieldType::kString),
           f("date_time", FieldType::kTimestamp), f("extra", FieldType::kString)},
          {}};
  }
  return {};
}

void NexmarkGenerator::Generate(uint64_t event, Record& out) const {
  switch (TableOf(event)) {
    case Table::kPerson:
      return Person(event, out);
    case Table::kAuction:
      return Auction(event, out);
    case Table::kBid:
      return Bid(event, out);
  }
}

void NexmarkGenerator::Person(uint64_t event, Record& out) const {
  EventRandom rng(seed_, event);
  out.resize(8);
  std::string_view first = kFirstNames[rng.Below(kFirstNames.size())];
  std::string_view last = kLastNames[rng.Below(kLastNames.size())];
  std::string name;
  name.reserve(first.size() + last.size() + 1);
  name.append(first).append(" ").append(last);
  std::string email = RandomLetters(rng, 7) + "@" + RandomLetters(rng, 5) + ".com";
  char card[20];
  for (int i = 0, pos = 0; i < 16; ++i) {
    if (i && i % 4 == 0) card[pos++] = ' ';
    card[pos++] = char('0' + rng.Below(10));
  }
  out[0] = Value(LastPersonId(event));
  out[1] = Value(std::move(name));
  out[2] = Value(std::move(email));
  out[3] = Value(std::string_view(card, 19));
  out[4] = Value(kCities[rng.Below(kCities.size())]);
  out[5] = Value(kStates[rng.Below(kStates.size())]);
  out[6] = Value(EventTime(event));
  out[7] = Value(RandomLetters(rng, 8 + rng.Below(16)));
}

void NexmarkGenerator::Auction(uint64_t event, Record& out) const {
  EventRandom rng(seed_, event);
  out.resize(10);
  int64_t id = LastAuctionId(event);
  int64_t last_person = LastPersonId(event);
  // Most auctions come from a small set of hot sellers, the rest from recent people.
  int64_t seller = rng.Below(10) < 9
                       ? std::max(kFirstPersonId, last_person - int64_t(rng.Below(10)))
                       : std::max(kFirstPersonId, last_person - int64_t(rng.Below(1000)));
  int64_t initial_bid = Price(rng);
  int64_t time = EventTime(event);
  out[0] = Value(id);
  out[1] = Value(RandomWords(rng, 2));
  out[2] = Value(RandomWords(rng, 6 + int(rng.Below(6))));
  out[3] = Value(initial_bid);
  out[4] = Value(initial_bid + int64_t(rng.Below(uint64_t(initial_bid) + 1)));
  out[5] = Value(time);
  out[6] = Value(time + int64_t(1 + rng.Below(600)) * 1'000'000);
  out[7] = Value(seller);
  out[8] = Value(int64_t(10 + rng.Below(5)));
  out[9] = Value(RandomLetters(rng, 8 + rng.Below(16)));
}

void NexmarkGenerator::Bid(uint64_t event, Record& out) const {
  EventRandom rng(seed_, event);
  out.resize(7);
  int64_t last_auction = LastAuctionId(event);
  int64_t last_person = LastPersonId(event);
  // Half the bids go to a hot auction, a quarter of bidders are hot: skewed keys on purpose.
  int64_t auction = rng.Below(2) == 0
                        ? std::max(kFirstAuctionId, last_auction / 2 * 2)
                        : std::max(kFirstAuctionId, last_auction - int64_t(rng.Below(100)));
  int64_t bidder = rng.Below(4) != 0
                       ? std::max(kFirstPersonId, last_person / 4 * 4)
                       : std::max(kFirstPersonId, last_person - int64_t(rng.Below(1000)));
  std::string channel, url;
  url.reserve(64);
  url.append("https://www.nexmark.com/");
  url.append(RandomLetters(rng, 5)).append("/").append(RandomLetters(rng, 5));
  url.append("/item.htm?query=1");
  if (rng.Below(10) < 9) {
    channel = kChannels[rng.Below(kChannels.size())];
  } else {
    uint64_t channel_id = rng.Below(10000);
    channel = "channel-" + std::to_string(channel_id);
    url.append("&channel_id=").append(std::to_string(channel_id));
  }
  out[0] = Value(auction);
  out[1] = Value(bidder);
  out[2] = Value(Price(rng));
  out[3] = Value(std::move(channel));
  out[4] = Value(std::move(url));
  out[5] = Value(EventTime(event));
  out[6] = Value(RandomLetters(rng, rng.Below(8)));
}

}  // namespace sluice
