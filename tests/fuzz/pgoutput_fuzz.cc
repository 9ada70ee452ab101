// PostgreSQL logical replication bytes (connectors/postgres/pgoutput.h) as the walsender sends
// them: CopyData replication frames (XLogData 'w', Primary keepalive 'k') and the pgoutput
// messages inside XLogData; and pg_lsn text.
//
// Input: one CopyData payload. It is decoded as a replication frame (and an XLogData's data
// as a pgoutput message), as a bare pgoutput message (what pg_logical_slot_peek_binary_changes
// returns), and as LSN text.
// Contracts: malformed bytes are DataLoss and unknown kinds Unimplemented, never a read
// outside the input; decoded messages are consistent (NULL and unchanged columns carry no
// value, a Delete has an old row, an Update without old row kind has none); a parsed LSN
// formats back to the same LSN.
#include "connectors/postgres/pgoutput.h"
#include "fuzz_support.h"

namespace sluice::fuzz::pgoutput {
namespace {

void CheckTuple(const TupleData& tuple, const std::string& ctx) {
  for (const TupleColumn& c : tuple) {
    const bool valued = c.kind == TupleColumn::Kind::kText || c.kind == TupleColumn::Kind::kBinary;
    FUZZ_CHECK(valued || c.value.empty(), ctx);
    FUZZ_CHECK(
        c.kind == TupleColumn::Kind::kNull || c.kind == TupleColumn::Kind::kUnchanged || valued,
        ctx);
  }
}

void CheckMessage(std::string_view bytes, const std::string& ctx) {
  auto message = DecodePgOutput(bytes);
  if (!message.ok()) {
    const StatusCode code = message.status().code();
    FUZZ_CHECK(code == StatusCode::kDataLoss || code == StatusCode::kUnimplemented,
               Describe(message.status()) + " " + ctx);
    return;
  }
  if (const auto* m = std::get_if<InsertMessage>(&*message)) CheckTuple(m->new_tuple, ctx);
  if (const auto* m = std::get_if<UpdateMessage>(&*message)) {
    CheckTuple(m->old_tuple, ctx);
    CheckTuple(m->new_tuple, ctx);
    if (m->old_kind == OldTupleKind::kNone) FUZZ_CHECK(m->old_tuple.empty(), ctx);
  }
  if (const auto* m = std::get_if<DeleteMessage>(&*message)) {
    CheckTuple(m->old_tuple, ctx);
    FUZZ_CHECK(m->old_kind == OldTupleKind::kKey || m->old_kind == OldTupleKind::kFull, ctx);
  }
  if (const auto* m = std::get_if<RelationMessage>(&*message)) {
    for (const RelationColumn& c : m->columns)
      FUZZ_CHECK(c.name.find('\0') == std::string::npos, ctx);
  }
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  InitOnce();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string ctx = Printable(bytes);
  auto frame = DecodeReplicationFrame(bytes);
  if (!frame.ok()) {
    const StatusCode code = frame.status().code();
    FUZZ_CHECK(code == StatusCode::kDataLoss || code == StatusCode::kUnimplemented,
               Describe(frame.status()) + " " + ctx);
  } else if (const auto* x = std::get_if<XLogData>(&*frame)) {
    FUZZ_CHECK(x->data.data() >= bytes.data() &&
                   x->data.data() + x->data.size() == bytes.data() + bytes.size(),
               ctx);
    CheckMessage(x->data, ctx);
  }
  CheckMessage(bytes, ctx);

  auto lsn = ParseLsn(bytes);
  if (lsn.ok()) {
    auto again = ParseLsn(FormatLsn(*lsn));
    FUZZ_CHECK(again.ok() && *again == *lsn, "LSN " + FormatLsn(*lsn) + " " + ctx);
  } else {
    FUZZ_CHECK(lsn.status().code() == StatusCode::kInvalidArgument, Describe(lsn.status()));
  }
  return 0;
}

}  // namespace sluice::fuzz::pgoutput
