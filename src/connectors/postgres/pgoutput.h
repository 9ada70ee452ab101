// The bytes of PostgreSQL logical replication with the built-in `pgoutput` plugin
// (proto_version 1), decoded into plain structs, and the one message a client sends back.
//
// Two layers, as the walsender sends them inside CopyData during START_REPLICATION:
// - replication frames: XLogData ('w') carrying one pgoutput message, and Primary keepalive
//   ('k'); the client answers with a Standby status update ('r');
// - pgoutput messages: Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate
//   and Message. pg_logical_slot_peek_binary_changes() returns the same messages without frames.
//
// Integers are big-endian on the wire. Times are converted to Sluice's convention on decode
// (microseconds since the Unix epoch, UTC) and back on encode. Decoding is pure: it never reads
// outside the given bytes, and malformed or truncated input is a DataLoss error naming the
// message type and the byte offset; message kinds proto_version 1 does not define are
// Unimplemented. Everything here is safe to use from any thread on distinct objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace sluice {

// A WAL position (pg_lsn): a byte offset into the write-ahead log.
using Lsn = uint64_t;

// PostgreSQL's text form "16/B374D848" (upper and lower 32 bits in hex), and back.
std::string FormatLsn(Lsn lsn);
Result<Lsn> ParseLsn(std::string_view text);

// Replication protocol times count microseconds from 2000-01-01; Sluice counts from 1970.
constexpr int64_t kPgEpochUnixMicros = 946'684'800LL * 1'000'000;

// ---- Replication frames (CopyData payloads) ----

// WAL data; `data` is one pgoutput message and points into the decoded buffer.
struct XLogData {
  Lsn wal_start = 0;
  Lsn wal_end = 0;
  int64_t send_time = 0;  // Unix microseconds
  std::string_view data;
};

// Sent when the walsender is idle; if `reply_requested`, answer soon with a status update or
// the server drops the connection after wal_sender_timeout.
struct PrimaryKeepalive {
  Lsn wal_end = 0;
  int64_t send_time = 0;  // Unix microseconds
  bool reply_requested = false;
};

using ReplicationFrame = std::variant<XLogData, PrimaryKeepalive>;

Result<ReplicationFrame> DecodeReplicationFrame(std::string_view copy_data);

// The client's progress report. `flush` is what the slot may forget: only positions whose
// epoch has committed in Sluice belong there.
struct StandbyStatusUpdate {
  Lsn write = 0;
  Lsn flush = 0;
  Lsn apply = 0;
  int64_t clock = 0;  // Unix microseconds
  bool reply_requested = false;
};

// The 34-byte CopyData payload ('r' ...).
std::string EncodeStandbyStatusUpdate(const StandbyStatusUpdate& update);

// ---- pgoutput messages ----

// One column of a row as pgoutput sends it.
struct TupleColumn {
  enum class Kind : char {
    kNull = 'n',
    // A TOASTed value the change did not touch: PostgreSQL does not send it, and it is not
    // NULL. The consumer must keep the value it already has.
    kUnchanged = 'u',
    kText = 't',    // `value` in the type's text output form
    kBinary = 'b',  // `value` in the type's binary send form (only with the `binary` option)
  };
  Kind kind = Kind::kNull;
  std::string value;

  friend bool operator==(const TupleColumn&, const TupleColumn&) = default;
};

using TupleData = std::vector<TupleColumn>;

struct BeginMessage {
  Lsn final_lsn = 0;  // the LSN of the commit record
  int64_t commit_time = 0;
  uint32_t xid = 0;
};

struct CommitMessage {
  uint8_t flags = 0;  // unused by PostgreSQL so far
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;  // end of the transaction's commit record: where to resume after it
  int64_t commit_time = 0;
};

// The transaction came from another node through a replication origin.
struct OriginMessage {
  Lsn commit_lsn = 0;  // the commit's LSN on the origin server
  std::string name;
};

struct RelationColumn {
  bool is_key = false;  // part of the replica identity (every column under FULL)
  std::string name;
  uint32_t type_oid = 0;
  int32_t typmod = -1;
};

// Sent before the first change of a table in a session and again after its schema changed;
// later changes refer to it by oid only.
struct RelationMessage {
  uint32_t oid = 0;
  std::string namespace_name;  // empty for pg_catalog
  std::string name;
  // pg_class.relreplident: 'd' default (primary key), 'n' nothing, 'f' full, 'i' index.
  char replica_identity = 'd';
  std::vector<RelationColumn> columns;
};

// Names a non-built-in type (an enum, a domain, an extension type) a Relation refers to.
struct TypeMessage {
  uint32_t oid = 0;
  std::string namespace_name;
  std::string name;
};

struct InsertMessage {
  uint32_t relation_oid = 0;
  TupleData new_tuple;
};

// Which old row an Update or Delete carries.
enum class OldTupleKind : char {
  kNone = 0,    // no old row: an Update that did not change the replica identity columns
  kKey = 'K',   // replica identity columns only; every other column is sent as NULL
  kFull = 'O',  // the whole old row (REPLICA IDENTITY FULL)
};

struct UpdateMessage {
  uint32_t relation_oid = 0;
  OldTupleKind old_kind = OldTupleKind::kNone;
  TupleData old_tuple;  // empty when old_kind is kNone
  TupleData new_tuple;
};

struct DeleteMessage {
  uint32_t relation_oid = 0;
  OldTupleKind old_kind = OldTupleKind::kKey;  // never kNone
  TupleData old_tuple;
};

struct TruncateMessage {
  bool cascade = false;
  bool restart_identity = false;
  std::vector<uint32_t> relation_oids;
};

// pg_logical_emit_message(); only sent when the slot is read with messages 'true'.
struct LogicalMessage {
  bool transactional = false;
  Lsn lsn = 0;
  std::string prefix;
  std::string content;
};

using PgOutputMessage =
    std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage, TypeMessage,
                 InsertMessage, UpdateMessage, DeleteMessage, TruncateMessage, LogicalMessage>;

// Decodes one whole message; bytes left over after it are an error too.
Result<PgOutputMessage> DecodePgOutput(std::string_view data);

}  // namespace sluice
