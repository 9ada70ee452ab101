#include "connectors/postgres/pgoutput.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "postgres_suite.h"

namespace sluice {

void PrintTo(const TupleColumn& c, std::ostream* os) {
  *os << char(c.kind);
  if (c.kind == TupleColumn::Kind::kText || c.kind == TupleColumn::Kind::kBinary) {
    *os << ":" << (c.value.size() > 40 ? c.value.substr(0, 40) + "..." : c.value);
  }
}

namespace {

using sluice::testing::PgConnection;
using sluice::testing::PostgresServer;

TupleColumn Text(std::string v) { return {TupleColumn::Kind::kText, std::move(v)}; }
TupleColumn Null() { return {TupleColumn::Kind::kNull, ""}; }
TupleColumn Unchanged() { return {TupleColumn::Kind::kUnchanged, ""}; }

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// bytea text output ("\x4201...") → bytes.
std::string Unhex(std::string_view text) {
  std::string out;
  for (size_t i = 2; i + 1 < text.size(); i += 2) {
    out.push_back(char(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// One row of pg_logical_slot_peek_binary_changes.
struct Change {
  std::string lsn;
  std::string xid;
  std::string bytes;
};

// The message types in order, as pgoutput's type bytes: "BRIC" for Begin, Relation, ...
std::string Kinds(const std::vector<PgOutputMessage>& messages) {
  static constexpr char kTypes[] = "BCORYIUDTM";  // PgOutputMessage's alternatives in order
  std::string out;
  for (const auto& m : messages) out.push_back(kTypes[m.index()]);
  return out;
}

class PgOutputTest : public testing::PostgresSuite {
 protected:
  std::string QueryOne(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->empty() || rows->front().empty() || !rows->front()[0]) return "";
    return *rows->front()[0];
  }

  uint32_t Oid(const std::string& relation) {
    return uint32_t(std::stoul(QueryOne("SELECT '" + relation + "'::regclass::oid")));
  }

  // A publication `name` for `tables` and a pgoutput slot `name` created after it.
  void CreatePublicationAndSlot(const std::string& name, const std::string& tables) {
    Exec("CREATE PUBLICATION " + name + " FOR TABLE " + tables);
    Exec("SELECT pg_create_logical_replication_slot('" + name + "', 'pgoutput')");
  }

  std::vector<Change> PeekRaw(const std::string& slot, bool messages = false) {
    auto rows = conn_->Query(
        "SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_binary_changes('" + slot +
        "', NULL, NULL, 'proto_version', '1', 'publication_names', '" + slot + "'" +
        (messages ? ", 'messages', 'true'" : "") + ")");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<Change> changes;
    if (!rows.ok()) return changes;
    for (auto& row : *rows) changes.push_back({*row[0], *row[1], Unhex(*row[2])});
    return changes;
  }

  // Decodes every change and checks what the SQL interface says about each one too.
  std::vector<PgOutputMessage> Peek(const std::string& slot, bool messages = false) {
    std::vector<PgOutputMessage> out;
    for (const Change& c : PeekRaw(slot, messages)) {
      auto m = DecodePgOutput(c.bytes);
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      if (!m.ok()) continue;
      if (auto* begin = std::get_if<BeginMessage>(&*m)) {
        EXPECT_EQ(std::to_string(begin->xid), c.xid);
      }
      if (auto* commit = std::get_if<CommitMessage>(&*m)) {
        EXPECT_EQ(FormatLsn(commit->end_lsn), c.lsn);  // the row's lsn is where to resume
      }
      out.push_back(std::move(m).value());
    }
    return out;
  }
};

template <typename T>
const T& As(const PgOutputMessage& m) {
  static const T kEmpty{};
  const T* p = std::get_if<T>(&m);
  EXPECT_NE(p, nullptr) << "message " << m.index() << " has another type";
  return p ? *p : kEmpty;
}

TEST_F(PgOutputTest, InsertUpdateDeleteWithDefaultReplicaIdentity) {
  Exec("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), note text)");
  CreatePublicationAndSlot("basic", "items");
  const int64_t before = NowMicros();
  Exec("INSERT INTO items VALUES (1, 'a', 1.50, NULL), (2, 'b', 2, 'x')");
  Exec("UPDATE items SET name = 'A' WHERE id = 1");
  Exec("UPDATE items SET id = 10 WHERE id = 2");
  Exec("DELETE FROM items WHERE id = 10");
  const int64_t after = NowMicros();

  auto m = Peek("basic");
  ASSERT_EQ(Kinds(m),
            "BRIIC"
            "BUC"
            "BUC"
            "BDC");
  const uint32_t oid = Oid("items");

  const auto& begin = As<BeginMessage>(m[0]);
  const auto& commit = As<CommitMessage>(m[4]);
  EXPECT_EQ(begin.final_lsn, commit.commit_lsn);
  EXPECT_LT(commit.commit_lsn, commit.end_lsn);
  EXPECT_EQ(begin.commit_time, commit.commit_time);
  EXPECT_GE(commit.commit_time, before - 1'000'000);  // times are Unix micros, not PG's
  EXPECT_LE(commit.commit_time, after + 1'000'000);
  EXPECT_EQ(commit.flags, 0);

  const auto& rel = As<RelationMessage>(m[1]);
  EXPECT_EQ(rel.oid, oid);
  EXPECT_EQ(rel.namespace_name, "public");
  EXPECT_EQ(rel.name, "items");
  EXPECT_EQ(rel.replica_identity, 'd');
  ASSERT_EQ(rel.columns.size(), 4u);
  EXPECT_TRUE(rel.columns[0].is_key);
  EXPECT_FALSE(rel.columns[1].is_key);
  EXPECT_EQ(rel.columns[0].name, "id");
  EXPECT_EQ(rel.columns[2].name, "price");
  EXPECT_EQ(rel.columns[0].type_oid, 23u);
  EXPECT_EQ(rel.columns[1].type_oid, 25u);
  EXPECT_EQ(rel.columns[2].type_oid, 1700u);
  EXPECT_EQ(rel.columns[2].typmod, (10 << 16 | 2) + 4);  // numeric(10,2), as atttypmod
  EXPECT_EQ(rel.columns[1].typmod, -1);

  const auto& ins = As<InsertMessage>(m[2]);
  EXPECT_EQ(ins.relation_oid, oid);
  EXPECT_EQ(ins.new_tuple, (TupleData{Text("1"), Text("a"), Text("1.50"), Null()}));
  EXPECT_EQ(As<InsertMessage>(m[3]).new_tuple,
            (TupleData{Text("2"), Text("b"), Text("2.00"), Text("x")}));

  // Key unchanged: no old tuple at all.
  const auto& upd = As<UpdateMessage>(m[6]);
  EXPECT_EQ(upd.old_kind, OldTupleKind::kNone);
  EXPECT_TRUE(upd.old_tuple.empty());
  EXPECT_EQ(upd.new_tuple, (TupleData{Text("1"), Text("A"), Text("1.50"), Null()}));

  // Key changed: the old key, every other column sent as NULL.
  const auto& key_change = As<UpdateMessage>(m[9]);
  EXPECT_EQ(key_change.old_kind, OldTupleKind::kKey);
  EXPECT_EQ(key_change.old_tuple, (TupleData{Text("2"), Null(), Null(), Null()}));
  EXPECT_EQ(key_change.new_tuple, (TupleData{Text("10"), Text("b"), Text("2.00"), Text("x")}));

  const auto& del = As<DeleteMessage>(m[12]);
  EXPECT_EQ(del.relation_oid, oid);
  EXPECT_EQ(del.old_kind, OldTupleKind::kKey);
  EXPECT_EQ(del.old_tuple, (TupleData{Text("10"), Null(), Null(), Null()}));
}

TEST_F(PgOutputTest, ReplicaIdentityFullSendsWholeOldRows) {
  Exec("CREATE TABLE full_rows (id int PRIMARY KEY, v text, w int)");
  Exec("ALTER TABLE full_rows REPLICA IDENTITY FULL");
  CreatePublicationAndSlot("full_rows", "full_rows");
  Exec("INSERT INTO full_rows VALUES (1, 'x', NULL)");
  Exec("UPDATE full_rows SET v = 'y'");
  Exec("DELETE FROM full_rows");

  auto m = Peek("full_rows");
  ASSERT_EQ(Kinds(m),
            "BRIC"
            "BUC"
            "BDC");
  const auto& rel = As<RelationMessage>(m[1]);
  EXPECT_EQ(rel.replica_identity, 'f');
  ASSERT_EQ(rel.columns.size(), 3u);
  for (const auto& c : rel.columns) EXPECT_TRUE(c.is_key) << c.name;  // all, under FULL

  const auto& upd = As<UpdateMessage>(m[5]);
  EXPECT_EQ(upd.old_kind, OldTupleKind::kFull);
  EXPECT_EQ(upd.old_tuple, (TupleData{Text("1"), Text("x"), Null()}));
  EXPECT_EQ(upd.new_tuple, (TupleData{Text("1"), Text("y"), Null()}));
  const auto& del = As<DeleteMessage>(m[8]);
  EXPECT_EQ(del.old_kind, OldTupleKind::kFull);
  EXPECT_EQ(del.old_tuple, (TupleData{Text("1"), Text("y"), Null()}));
}

TEST_F(PgOutputTest, UnchangedToastedValueIsNotNull) {
  // EXTERNAL storage: out of line and uncompressed, so 10 kB of 'x' is really TOASTed.
  for (std::string table : {"docs", "docs_full"}) {
    Exec("CREATE TABLE " + table + " (id int PRIMARY KEY, body text, n int)");
    Exec("ALTER TABLE " + table + " ALTER COLUMN body SET STORAGE EXTERNAL");
  }
  Exec("ALTER TABLE docs_full REPLICA IDENTITY FULL");
  CreatePublicationAndSlot("toast", "docs, docs_full");
  const std::string body(10000, 'x');
  Exec("INSERT INTO docs VALUES (1, repeat('x', 10000), 1)");
  Exec("INSERT INTO docs_full VALUES (1, repeat('x', 10000), 1)");
  Exec("UPDATE docs SET n = 2");
  Exec("UPDATE docs_full SET n = 2");
  Exec("UPDATE docs SET body = 'short', n = 3");

  auto m = Peek("toast");
  ASSERT_EQ(Kinds(m),
            "BRIC"
            "BRIC"
            "BUC"
            "BUC"
            "BUC");
  EXPECT_EQ(As<InsertMessage>(m[2]).new_tuple, (TupleData{Text("1"), Text(body), Text("1")}));

  const auto& upd = As<UpdateMessage>(m[9]);
  EXPECT_EQ(upd.old_kind, OldTupleKind::kNone);
  EXPECT_EQ(upd.new_tuple, (TupleData{Text("1"), Unchanged(), Text("2")}));

  // Under FULL the old row carries the value the new row leaves out.
  const auto& full = As<UpdateMessage>(m[12]);
  EXPECT_EQ(full.old_kind, OldTupleKind::kFull);
  EXPECT_EQ(full.old_tuple, (TupleData{Text("1"), Text(body), Text("1")}));
  EXPECT_EQ(full.new_tuple, (TupleData{Text("1"), Unchanged(), Text("2")}));

  EXPECT_EQ(As<UpdateMessage>(m[15]).new_tuple, (TupleData{Text("1"), Text("short"), Text("3")}));
}

TEST_F(PgOutputTest, TruncateOptionsAndRelations) {
  Exec("CREATE TABLE parent (id serial PRIMARY KEY)");
  Exec("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)");
  CreatePublicationAndSlot("trunc", "parent, child");
  Exec("TRUNCATE child");
  Exec("TRUNCATE parent RESTART IDENTITY CASCADE");

  auto m = Peek("trunc");
  ASSERT_EQ(Kinds(m),
            "BRTC"
            "BRRTC");
  const auto& plain = As<TruncateMessage>(m[2]);
  EXPECT_FALSE(plain.cascade);
  EXPECT_FALSE(plain.restart_identity);
  EXPECT_EQ(plain.relation_oids, std::vector<uint32_t>{Oid("child")});
  const auto& cascade = As<TruncateMessage>(m[7]);
  EXPECT_TRUE(cascade.cascade);
  EXPECT_TRUE(cascade.restart_identity);
  std::vector<uint32_t> oids = cascade.relation_oids;
  std::sort(oids.begin(), oids.end());
  std::vector<uint32_t> expected = {Oid("parent"), Oid("child")};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(oids, expected);
}

TEST_F(PgOutputTest, TypeMessageNamesAnEnumBeforeItsRelation) {
  Exec("CREATE TYPE mood AS ENUM ('sad', 'happy')");
  Exec("CREATE TABLE moods (id int PRIMARY KEY, m mood, ms mood[])");
  CreatePublicationAndSlot("types", "moods");
  Exec("INSERT INTO moods VALUES (1, 'happy', '{sad,happy}')");

  auto m = Peek("types");
  ASSERT_EQ(Kinds(m), "BYYRIC");
  const uint32_t mood = uint32_t(std::stoul(QueryOne("SELECT 'mood'::regtype::oid")));
  const uint32_t moods = uint32_t(std::stoul(QueryOne("SELECT '_mood'::regtype::oid")));
  const auto& type = As<TypeMessage>(m[1]);
  EXPECT_EQ(type.oid, mood);
  EXPECT_EQ(type.namespace_name, "public");
  EXPECT_EQ(type.name, "mood");
  EXPECT_EQ(As<TypeMessage>(m[2]).oid, moods);
  EXPECT_EQ(As<TypeMessage>(m[2]).name, "_mood");
  const auto& rel = As<RelationMessage>(m[3]);
  EXPECT_EQ(rel.columns[1].type_oid, mood);
  EXPECT_EQ(rel.columns[2].type_oid, moods);
  EXPECT_EQ(As<InsertMessage>(m[4]).new_tuple,
            (TupleData{Text("1"), Text("happy"), Text("{sad,happy}")}));
}

TEST_F(PgOutputTest, LogicalMessagesAndOrigin) {
  Exec("CREATE TABLE replicated (id int PRIMARY KEY)");
  CreatePublicationAndSlot("misc", "replicated");
  std::string tx_lsn = QueryOne("SELECT pg_logical_emit_message(true, 'sluice', 'in a txn')");
  std::string lsn =
      QueryOne("SELECT pg_logical_emit_message(false, 'sluice/raw', '\\x00ff01'::bytea)");
  Exec("SELECT pg_replication_origin_create('upstream')");
  Exec("SELECT pg_replication_origin_session_setup('upstream')");
  Exec(
      "BEGIN; SELECT pg_replication_origin_xact_setup('5/ABCDEF01', now()); "
      "INSERT INTO replicated VALUES (1); COMMIT");
  Exec("SELECT pg_replication_origin_session_reset()");

  auto m = Peek("misc", /*messages=*/true);
  ASSERT_EQ(Kinds(m),
            "BMC"
            "M"
            "BORIC");
  const auto& in_tx = As<LogicalMessage>(m[1]);
  EXPECT_TRUE(in_tx.transactional);
  EXPECT_EQ(in_tx.prefix, "sluice");
  EXPECT_EQ(in_tx.content, "in a txn");
  EXPECT_EQ(FormatLsn(in_tx.lsn), tx_lsn);
  const auto& raw = As<LogicalMessage>(m[3]);
  EXPECT_FALSE(raw.transactional);
  EXPECT_EQ(raw.prefix, "sluice/raw");
  EXPECT_EQ(raw.content, std::string("\x00\xff\x01", 3));
  EXPECT_EQ(FormatLsn(raw.lsn), lsn);
  const auto& origin = As<OriginMessage>(m[5]);
  EXPECT_EQ(origin.name, "upstream");
  EXPECT_EQ(FormatLsn(origin.commit_lsn), "5/ABCDEF01");
}

TEST_F(PgOutputTest, LsnTextMatchesPostgres) {
  for (std::string lsn : {"0/0", "0/15825E0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "1/0"}) {
    const std::string bytes = QueryOne("SELECT ('" + lsn + "'::pg_lsn - '0/0')::text");
    const std::string text = QueryOne("SELECT '" + lsn + "'::pg_lsn::text");
    auto parsed = ParseLsn(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(std::to_string(*parsed), bytes) << lsn;
    EXPECT_EQ(FormatLsn(*parsed), text);
  }
  EXPECT_EQ(*ParseLsn("16/b374d848"), *ParseLsn("16/B374D848"));
  for (std::string bad : {"", "1", "1/", "/1", "123456789/0", "G/0", "1/2/3", " 1/2", "-1/2"}) {
    auto r = ParseLsn(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

// Frames as the walsender sends them, over a real replication connection.
TEST_F(PgOutputTest, ReplicationFramesAndStatusUpdateOverWalsender) {
  Exec("CREATE TABLE streamed (id int PRIMARY KEY, at timestamptz)");
  CreatePublicationAndSlot("stream", "streamed");
  Exec("INSERT INTO streamed VALUES (1, '2020-01-01 00:00+00'), (2, NULL)");
  const std::vector<Change> sql_changes = PeekRaw("stream");
  ASSERT_EQ(sql_changes.size(), 5u);
  const std::string expected_end = sql_changes.back().lsn;  // the commit's end
  auto sql_insert = DecodePgOutput(sql_changes[2].bytes);
  ASSERT_TRUE(sql_insert.ok());
  EXPECT_EQ(std::get<InsertMessage>(*sql_insert).new_tuple[1], Text("2020-01-01 00:00:00+00"));

  // Values are formatted by the walsender with its own settings: TimeZone here.
  PGconn* raw = PQconnectdb(
      (server_->conninfo() + " replication=database options='-c TimeZone=Asia/Kolkata'").c_str());
  std::unique_ptr<PGconn, decltype(&PQfinish)> repl(raw, &PQfinish);
  ASSERT_EQ(PQstatus(raw), CONNECTION_OK) << PQerrorMessage(raw);
  PGresult* res = PQexec(raw,
                         "START_REPLICATION SLOT stream LOGICAL 0/0 "
                         "(proto_version '1', publication_names 'stream')");
  ASSERT_EQ(PQresultStatus(res), PGRES_COPY_BOTH) << PQerrorMessage(raw);
  PQclear(res);

  // Read frames until a keepalive follows the commit: the walsender pings once caught up.
  const int64_t start = NowMicros();
  std::vector<XLogData> wal;  // .data is not kept valid: only the header fields are read
  std::optional<PrimaryKeepalive> keepalive;
  std::optional<CommitMessage> commit;
  std::vector<InsertMessage> inserts;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!(commit && keepalive) && std::chrono::steady_clock::now() < deadline) {
    char* buf = nullptr;
    int n = PQgetCopyData(raw, &buf, /*async=*/1);
    if (n == 0) {
      pollfd p{PQsocket(raw), POLLIN, 0};
      ::poll(&p, 1, 100);
      ASSERT_EQ(PQconsumeInput(raw), 1) << PQerrorMessage(raw);
      continue;
    }
    ASSERT_GT(n, 0) << PQerrorMessage(raw);
    std::string copy(buf, size_t(n));
    PQfreemem(buf);
    auto frame = DecodeReplicationFrame(copy);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    if (auto* k = std::get_if<PrimaryKeepalive>(&*frame)) {
      if (commit) keepalive = *k;
      continue;
    }
    const auto& x = std::get<XLogData>(*frame);
    auto m = DecodePgOutput(x.data);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    if (auto* c = std::get_if<CommitMessage>(&*m)) commit = *c;
    if (auto* i = std::get_if<InsertMessage>(&*m)) inserts.push_back(*i);
    wal.push_back(x);
  }
  ASSERT_TRUE(commit && keepalive) << "no commit and keepalive within 20 s";
  ASSERT_EQ(wal.size(), 5u);  // Begin, Relation, Insert, Insert, Commit
  ASSERT_EQ(inserts.size(), 2u);
  EXPECT_EQ(inserts[0].new_tuple, (TupleData{Text("1"), Text("2020-01-01 05:30:00+05:30")}));
  EXPECT_EQ(inserts[1].new_tuple, (TupleData{Text("2"), Null()}));
  for (const auto& x : wal) {
    EXPECT_GE(x.send_time, start - 5'000'000);
    EXPECT_LE(x.send_time, NowMicros() + 5'000'000);
  }
  EXPECT_EQ(wal.back().wal_start, commit->end_lsn);  // logical walsenders put the end there
  EXPECT_GE(keepalive->wal_end, commit->end_lsn);
  EXPECT_GE(keepalive->send_time, start - 5'000'000);
  EXPECT_EQ(FormatLsn(commit->end_lsn), expected_end);

  // Acknowledge the commit; the slot's confirmed_flush_lsn must follow.
  StandbyStatusUpdate update;
  update.write = update.flush = update.apply = commit->end_lsn;
  update.clock = NowMicros();
  const std::string bytes = EncodeStandbyStatusUpdate(update);
  ASSERT_EQ(PQputCopyData(raw, bytes.data(), int(bytes.size())), 1);
  ASSERT_EQ(PQflush(raw), 0);
  std::string confirmed;
  for (int i = 0; i < 100 && confirmed != expected_end; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    confirmed = QueryOne(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
        "WHERE slot_name = 'stream'");
  }
  EXPECT_EQ(confirmed, expected_end);
}

TEST(StandbyStatusUpdate, EncodesBigEndianWithPostgresEpoch) {
  StandbyStatusUpdate u;
  u.write = 0x0102030405060708;
  u.flush = 0x1112131415161718;
  u.apply = 0x2122232425262728;
  u.clock = kPgEpochUnixMicros + 0x3132333435363738;
  u.reply_requested = true;
  EXPECT_EQ(EncodeStandbyStatusUpdate(u), std::string("r"
                                                      "\x01\x02\x03\x04\x05\x06\x07\x08"
                                                      "\x11\x12\x13\x14\x15\x16\x17\x18"
                                                      "\x21\x22\x23\x24\x25\x26\x27\x28"
                                                      "\x31\x32\x33\x34\x35\x36\x37\x38"
                                                      "\x01",
                                                      34));
}

// Hand-made bytes for the failure cases.
class Bytes {
 public:
  Bytes& U8(uint8_t v) {
    s_.push_back(char(v));
    return *this;
  }
  Bytes& U16(uint16_t v) { return Int(v, 2); }
  Bytes& U32(uint32_t v) { return Int(v, 4); }
  Bytes& U64(uint64_t v) { return Int(v, 8); }
  Bytes& Str(std::string_view v) {
    s_.append(v);
    s_.push_back('\0');
    return *this;
  }
  Bytes& Raw(std::string_view v) {
    s_.append(v);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  Bytes& Int(uint64_t v, int size) {
    for (int i = size - 1; i >= 0; --i) s_.push_back(char(uint8_t(v >> (8 * i))));
    return *this;
  }
  std::string s_;
};

TEST(DecodePgOutput, DecodesHandMadeFrames) {
  std::string insert =
      Bytes().U8('I').U32(42).U8('N').U16(2).U8('t').U32(2).Raw("hi").U8('u').str();
  std::string w = Bytes().U8('w').U64(10).U64(20).U64(0).Raw(insert).str();
  auto frame = DecodeReplicationFrame(w);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  const auto& x = std::get<XLogData>(*frame);
  EXPECT_EQ(x.wal_start, 10u);
  EXPECT_EQ(x.wal_end, 20u);
  EXPECT_EQ(x.send_time, kPgEpochUnixMicros);
  auto m = DecodePgOutput(x.data);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(std::get<InsertMessage>(*m).new_tuple, (TupleData{Text("hi"), Unchanged()}));

  auto k = DecodeReplicationFrame(Bytes().U8('k').U64(7).U64(1).U8(1).str());
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(std::get<PrimaryKeepalive>(*k).wal_end, 7u);
  EXPECT_EQ(std::get<PrimaryKeepalive>(*k).send_time, kPgEpochUnixMicros + 1);
  EXPECT_TRUE(std::get<PrimaryKeepalive>(*k).reply_requested);
}

void ExpectError(const Result<PgOutputMessage>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
}

TEST(DecodePgOutput, MalformedMessagesNameTypeAndOffset) {
  ExpectError(DecodePgOutput(""), StatusCode::kDataLoss, "empty");
  ExpectError(DecodePgOutput(Bytes().U8('I').U32(1).str()), StatusCode::kDataLoss,
              "pgoutput Insert ('I') message at byte 5: truncated reading the tuple tag");
  ExpectError(DecodePgOutput(Bytes().U8('I').U32(1).U8('N').U16(2).U8('n').U8('x').str()),
              StatusCode::kDataLoss,
              "Insert ('I') message at byte 9, column 2: unknown column kind 'x'");
  ExpectError(DecodePgOutput(Bytes().U8('I').U32(1).U8('N').U16(1).U8('t').U32(5).Raw("ab").str()),
              StatusCode::kDataLoss,
              "at byte 13, column 1: truncated reading the value (needs 5 bytes, 2 left)");
  ExpectError(DecodePgOutput(Bytes().U8('I').U32(1).U8('N').U16(1).U8('t').U32(0x80000000).str()),
              StatusCode::kDataLoss, "negative value length");
  ExpectError(
      DecodePgOutput(Bytes().U8('U').U32(1).U8('X').str()), StatusCode::kDataLoss,
      "Update ('U') message at byte 5: unexpected tuple tag 'X' (expected 'K' or 'O' or 'N')");
  ExpectError(DecodePgOutput(Bytes().U8('U').U32(1).U8('K').U16(0).U8('K').U16(0).str()),
              StatusCode::kDataLoss, "at byte 8: unexpected tuple tag 'K' (expected 'N')");
  ExpectError(DecodePgOutput(Bytes().U8('D').U32(1).U8('N').U16(0).str()), StatusCode::kDataLoss,
              "Delete ('D') message at byte 5: unexpected tuple tag 'N'");
  ExpectError(DecodePgOutput(Bytes().U8('T').U32(0xffffffff).U8(0).U32(1).str()),
              StatusCode::kDataLoss, "4294967295 relation oids announced, 4 bytes left");
  ExpectError(DecodePgOutput(Bytes().U8('R').U32(1).Str("public").Raw("items").str()),
              StatusCode::kDataLoss,
              "at byte 12: truncated reading the relation name (no terminating NUL");
  ExpectError(DecodePgOutput(Bytes().U8('B').U64(1).U64(2).U32(3).U8(0).str()),
              StatusCode::kDataLoss, "Begin ('B') message at byte 21: 1 unexpected bytes");
  ExpectError(DecodePgOutput(Bytes().U8('M').U8(1).U64(1).Str("p").U32(10).Raw("abc").str()),
              StatusCode::kDataLoss, "truncated reading the content (needs 10 bytes, 3 left)");
  ExpectError(DecodePgOutput("S"), StatusCode::kUnimplemented, "streamed-transaction");
  ExpectError(DecodePgOutput("\x07"), StatusCode::kUnimplemented,
              "unknown pgoutput message type 0x07 at byte 0");

  auto frame = DecodeReplicationFrame(Bytes().U8('w').U64(1).U32(0).str());
  ASSERT_FALSE(frame.ok());
  EXPECT_NE(frame.status().message().find("XLogData ('w') frame at byte 9: truncated"),
            std::string::npos)
      << frame.status().ToString();
  auto keepalive = DecodeReplicationFrame(Bytes().U8('k').U64(1).U64(2).U8(0).U8(0).str());
  ASSERT_FALSE(keepalive.ok());
  EXPECT_NE(keepalive.status().message().find("1 unexpected bytes"), std::string::npos);
  EXPECT_EQ(DecodeReplicationFrame("x").status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(DecodeReplicationFrame("").status().code(), StatusCode::kDataLoss);
}

// Every strict prefix of a real message, and every message with a byte appended, is refused:
// the decoder must notice without reading past the end.
TEST_F(PgOutputTest, EveryTruncationOfRealMessagesIsAnError) {
  Exec("CREATE TYPE colour AS ENUM ('red')");
  Exec("CREATE TABLE cut (id int PRIMARY KEY, v text, c colour, b bytea)");
  Exec("ALTER TABLE cut REPLICA IDENTITY FULL");
  CreatePublicationAndSlot("cut", "cut");
  Exec("INSERT INTO cut VALUES (1, 'abc', 'red', '\\x00'), (2, NULL, NULL, NULL)");
  Exec("UPDATE cut SET id = 3 WHERE id = 1");
  Exec("DELETE FROM cut WHERE id = 2");
  Exec("TRUNCATE cut");
  Exec("SELECT pg_logical_emit_message(true, 'p', 'content')");

  auto changes = PeekRaw("cut", /*messages=*/true);
  std::vector<PgOutputMessage> messages;
  for (const Change& c : changes) {
    auto m = DecodePgOutput(c.bytes);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    messages.push_back(*m);
  }
  // TRUNCATE gives the table a new relfilenode: pgoutput sends its Type and Relation again.
  ASSERT_EQ(Kinds(messages),
            "BYRIIC"
            "BUC"
            "BDC"
            "BYRTC"
            "BMC");
  for (const Change& c : changes) {
    for (size_t len = 0; len < c.bytes.size(); ++len) {
      auto r = DecodePgOutput(std::string_view(c.bytes).substr(0, len));
      ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes of '" << c.bytes[0] << "'";
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    }
    for (size_t i = 0; i < c.bytes.size(); ++i) {  // corrupt bytes: no crash, whatever result
      for (char b : {'\0', '\xff', '\x7f'}) {
        std::string corrupt = c.bytes;
        corrupt[i] = b;
        (void)DecodePgOutput(corrupt);
      }
    }
    auto longer = DecodePgOutput(c.bytes + "!");
    ASSERT_FALSE(longer.ok());
    EXPECT_NE(longer.status().message().find("1 unexpected bytes"), std::string::npos)
        << longer.status().ToString();
  }
}

// Random bytes behind every message type: errors or messages, never a read out of bounds
// (run under AddressSanitizer to see the difference).
TEST(DecodePgOutput, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  const std::string types = "BCORYIUDTMwk";
  const std::string tags("ntubNKO\0", 8);
  int decoded = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string buf(rng() % 40, '\0');
    for (char& c : buf) c = char(rng() % 3 == 0 ? tags[rng() % tags.size()] : rng() % 4);
    if (!buf.empty()) buf[0] = types[rng() % types.size()];
    decoded += DecodePgOutput(buf).ok();
    decoded += DecodeReplicationFrame(buf).ok();
  }
  EXPECT_GT(decoded, 0);  // the generator does reach whole messages
}

}  // namespace
}  // namespace sluice
