#include "connectors/postgres/pgoutput.h"

#include <charconv>

namespace sluice {
namespace {

// "'I'" for a printable byte, "0x07" otherwise: error messages must stay readable.
std::string DescribeByte(uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (b >= 0x20 && b < 0x7f) return std::string("'") + char(b) + "'";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 15];
}

int64_t PgTimeToUnix(uint64_t pg_micros) {
  // Unsigned arithmetic: a garbage time must not be undefined behaviour.
  return int64_t(pg_micros + uint64_t(kPgEpochUnixMicros));
}

// Bounds-checked big-endian reads over one message; every error names the message and offset.
class ByteReader {
 public:
  ByteReader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  Status Error(std::string_view why) const { return ErrorAt(pos_, why); }
  Status ErrorAt(size_t offset, std::string_view why) const {
    std::string where = column_ > 0 ? ", column " + std::to_string(column_) : "";
    return DataLoss("malformed " + what_ + " at byte " + std::to_string(offset) + where + ": " +
                    std::string(why));
  }
  // Names the column (1-based) in errors until reset with 0; cheaper than a string per field.
  void set_column(int column) { column_ = column; }

  Result<uint64_t> Uint(size_t size, std::string_view field) {
    if (remaining() < size) {
      return Error("truncated reading " + std::string(field) + " (needs " + std::to_string(size) +
                   " bytes, " + std::to_string(remaining()) + " left)");
    }
    uint64_t v = 0;
    for (size_t i = 0; i < size; ++i) v = v << 8 | uint8_t(data_[pos_ + i]);
    pos_ += size;
    return v;
  }
  Result<uint8_t> U8(std::string_view field) {
    ASSIGN_OR_RETURN(uint64_t v, Uint(1, field));
    return uint8_t(v);
  }
  Result<uint16_t> U16(std::string_view field) {
    ASSIGN_OR_RETURN(uint64_t v, Uint(2, field));
    return uint16_t(v);
  }
  Result<uint32_t> U32(std::string_view field) {
    ASSIGN_OR_RETURN(uint64_t v, Uint(4, field));
    return uint32_t(v);
  }
  Result<uint64_t> U64(std::string_view field) { return Uint(8, field); }

  Result<std::string_view> Bytes(size_t size, std::string_view field) {
    if (remaining() < size) {
      return Error("truncated reading " + std::string(field) + " (needs " + std::to_string(size) +
                   " bytes, " + std::to_string(remaining()) + " left)");
    }
    std::string_view v = data_.substr(pos_, size);
    pos_ += size;
    return v;
  }

  // A NUL-terminated string, as pgoutput writes names.
  Result<std::string> CString(std::string_view field) {
    size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) {
      return Error("truncated reading " + std::string(field) + " (no terminating NUL byte)");
    }
    std::string v(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return v;
  }

  std::string_view Rest() {
    std::string_view v = data_.substr(pos_);
    pos_ = data_.size();
    return v;
  }

  Status ExpectEnd() const {
    if (remaining() == 0) return Status::OK();
    return Error(std::to_string(remaining()) + " unexpected bytes after the end of the message");
  }

 private:
  std::string_view data_;
  std::string what_;
  size_t pos_ = 0;
  int column_ = 0;
};

Result<TupleData> ReadTuple(ByteReader& in) {
  ASSIGN_OR_RETURN(uint16_t count, in.U16("the column count"));
  TupleData tuple;
  tuple.reserve(count);
  for (int i = 1; i <= count; ++i) {
    in.set_column(i);
    ASSIGN_OR_RETURN(uint8_t kind, in.U8("the column kind"));
    TupleColumn col;
    switch (kind) {
      case 'n':
      case 'u':
        col.kind = TupleColumn::Kind(kind);
        break;
      case 't':
      case 'b': {
        col.kind = TupleColumn::Kind(kind);
        ASSIGN_OR_RETURN(uint32_t length, in.U32("the value length"));
        if (int32_t(length) < 0) {
          return in.ErrorAt(in.offset() - 4,
                            "negative value length " + std::to_string(int32_t(length)));
        }
        ASSIGN_OR_RETURN(std::string_view value, in.Bytes(length, "the value"));
        col.value = std::string(value);
        break;
      }
      default:
        return in.ErrorAt(in.offset() - 1, "unknown column kind " + DescribeByte(kind) +
                                               " (expected 'n', 'u', 't' or 'b')");
    }
    tuple.push_back(std::move(col));
  }
  in.set_column(0);
  return tuple;
}

// Reads the byte that introduces a tuple ('N', 'K' or 'O'); `allowed` lists the accepted ones.
Result<char> ReadTupleTag(ByteReader& in, std::string_view allowed) {
  const size_t at = in.offset();
  ASSIGN_OR_RETURN(uint8_t tag, in.U8("the tuple tag"));
  if (tag != 0 && allowed.find(char(tag)) != std::string_view::npos) return char(tag);
  std::string expected;
  for (char c : allowed) expected += (expected.empty() ? "" : " or ") + DescribeByte(uint8_t(c));
  return in.ErrorAt(at,
                    "unexpected tuple tag " + DescribeByte(tag) + " (expected " + expected + ")");
}

Result<PgOutputMessage> DecodeBegin(ByteReader& in) {
  BeginMessage m;
  ASSIGN_OR_RETURN(m.final_lsn, in.U64("the final LSN"));
  ASSIGN_OR_RETURN(uint64_t time, in.U64("the commit time"));
  m.commit_time = PgTimeToUnix(time);
  ASSIGN_OR_RETURN(m.xid, in.U32("the xid"));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeCommit(ByteReader& in) {
  CommitMessage m;
  ASSIGN_OR_RETURN(m.flags, in.U8("the flags"));
  ASSIGN_OR_RETURN(m.commit_lsn, in.U64("the commit LSN"));
  ASSIGN_OR_RETURN(m.end_lsn, in.U64("the end LSN"));
  ASSIGN_OR_RETURN(uint64_t time, in.U64("the commit time"));
  m.commit_time = PgTimeToUnix(time);
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeOrigin(ByteReader& in) {
  OriginMessage m;
  ASSIGN_OR_RETURN(m.commit_lsn, in.U64("the origin's commit LSN"));
  ASSIGN_OR_RETURN(m.name, in.CString("the origin name"));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeRelation(ByteReader& in) {
  RelationMessage m;
  ASSIGN_OR_RETURN(m.oid, in.U32("the relation oid"));
  ASSIGN_OR_RETURN(m.namespace_name, in.CString("the namespace"));
  ASSIGN_OR_RETURN(m.name, in.CString("the relation name"));
  ASSIGN_OR_RETURN(uint8_t identity, in.U8("the replica identity"));
  m.replica_identity = char(identity);
  ASSIGN_OR_RETURN(uint16_t count, in.U16("the column count"));
  m.columns.reserve(count);
  for (int i = 1; i <= count; ++i) {
    in.set_column(i);
    RelationColumn c;
    ASSIGN_OR_RETURN(uint8_t flags, in.U8("the column flags"));
    c.is_key = (flags & 1) != 0;
    ASSIGN_OR_RETURN(c.name, in.CString("the column name"));
    ASSIGN_OR_RETURN(c.type_oid, in.U32("the type oid"));
    ASSIGN_OR_RETURN(uint32_t typmod, in.U32("the type modifier"));
    c.typmod = int32_t(typmod);
    m.columns.push_back(std::move(c));
  }
  in.set_column(0);
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeType(ByteReader& in) {
  TypeMessage m;
  ASSIGN_OR_RETURN(m.oid, in.U32("the type oid"));
  ASSIGN_OR_RETURN(m.namespace_name, in.CString("the namespace"));
  ASSIGN_OR_RETURN(m.name, in.CString("the type name"));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeInsert(ByteReader& in) {
  InsertMessage m;
  ASSIGN_OR_RETURN(m.relation_oid, in.U32("the relation oid"));
  RETURN_IF_ERROR(ReadTupleTag(in, "N").status());
  ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(in));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeUpdate(ByteReader& in) {
  UpdateMessage m;
  ASSIGN_OR_RETURN(m.relation_oid, in.U32("the relation oid"));
  ASSIGN_OR_RETURN(char tag, ReadTupleTag(in, "KON"));
  if (tag != 'N') {
    m.old_kind = OldTupleKind(tag);
    ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(in));
    RETURN_IF_ERROR(ReadTupleTag(in, "N").status());
  }
  ASSIGN_OR_RETURN(m.new_tuple, ReadTuple(in));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeDelete(ByteReader& in) {
  DeleteMessage m;
  ASSIGN_OR_RETURN(m.relation_oid, in.U32("the relation oid"));
  ASSIGN_OR_RETURN(char tag, ReadTupleTag(in, "KO"));
  m.old_kind = OldTupleKind(tag);
  ASSIGN_OR_RETURN(m.old_tuple, ReadTuple(in));
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeTruncate(ByteReader& in) {
  TruncateMessage m;
  ASSIGN_OR_RETURN(uint32_t count, in.U32("the relation count"));
  ASSIGN_OR_RETURN(uint8_t options, in.U8("the options"));
  m.cascade = (options & 1) != 0;
  m.restart_identity = (options & 2) != 0;
  // Check before reserving: a corrupt count must not allocate gigabytes.
  if (count > in.remaining() / 4) {
    return in.Error("truncated: " + std::to_string(count) + " relation oids announced, " +
                    std::to_string(in.remaining()) + " bytes left");
  }
  m.relation_oids.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(uint32_t oid, in.U32("a relation oid"));
    m.relation_oids.push_back(oid);
  }
  return PgOutputMessage(std::move(m));
}

Result<PgOutputMessage> DecodeMessage(ByteReader& in) {
  LogicalMessage m;
  ASSIGN_OR_RETURN(uint8_t flags, in.U8("the flags"));
  m.transactional = (flags & 1) != 0;
  ASSIGN_OR_RETURN(m.lsn, in.U64("the LSN"));
  ASSIGN_OR_RETURN(m.prefix, in.CString("the prefix"));
  ASSIGN_OR_RETURN(uint32_t length, in.U32("the content length"));
  ASSIGN_OR_RETURN(std::string_view content, in.Bytes(length, "the content"));
  m.content = std::string(content);
  return PgOutputMessage(std::move(m));
}

std::string_view MessageName(uint8_t type) {
  switch (type) {
    case 'B':
      return "Begin";
    case 'C':
      return "Commit";
    case 'O':
      return "Origin";
    case 'R':
      return "Relation";
    case 'Y':
      return "Type";
    case 'I':
      return "Insert";
    case 'U':
      return "Update";
    case 'D':
      return "Delete";
    case 'T':
      return "Truncate";
    case 'M':
      return "Message";
  }
  return {};
}

}  // namespace

std::string FormatLsn(Lsn lsn) {
  char buf[32];
  char* p = std::to_chars(buf, buf + sizeof buf, uint32_t(lsn >> 32), 16).ptr;
  *p++ = '/';
  p = std::to_chars(p, buf + sizeof buf, uint32_t(lsn), 16).ptr;
  std::string out(buf, p);
  for (char& c : out) {
    if (c >= 'a' && c <= 'f') c = char(c - 'a' + 'A');
  }
  return out;
}

Result<Lsn> ParseLsn(std::string_view text) {
  // As pg_lsn_in: 1 to 8 hex digits, '/', 1 to 8 hex digits, in either case.
  auto half = [](std::string_view part, uint32_t& out) {
    if (part.empty() || part.size() > 8) return false;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out, 16);
    return ec == std::errc() && p == part.data() + part.size();
  };
  size_t slash = text.find('/');
  uint32_t hi = 0, lo = 0;
  if (slash == std::string_view::npos || !half(text.substr(0, slash), hi) ||
      !half(text.substr(slash + 1), lo)) {
    return InvalidArgument("invalid LSN '" + std::string(text) +
                           "' (expected PostgreSQL's form, e.g. 16/B374D848)");
  }
  return Lsn(hi) << 32 | lo;
}

Result<ReplicationFrame> DecodeReplicationFrame(std::string_view copy_data) {
  if (copy_data.empty()) return DataLoss("malformed replication frame: empty CopyData message");
  const uint8_t type = uint8_t(copy_data[0]);
  if (type == 'w') {
    ByteReader in(copy_data, "XLogData ('w') frame");
    (void)in.Bytes(1, "the frame type");
    XLogData f;
    ASSIGN_OR_RETURN(f.wal_start, in.U64("the start LSN"));
    ASSIGN_OR_RETURN(f.wal_end, in.U64("the end LSN"));
    ASSIGN_OR_RETURN(uint64_t time, in.U64("the send time"));
    f.send_time = PgTimeToUnix(time);
    f.data = in.Rest();
    return ReplicationFrame(f);
  }
  if (type == 'k') {
    ByteReader in(copy_data, "Primary keepalive ('k') frame");
    (void)in.Bytes(1, "the frame type");
    PrimaryKeepalive f;
    ASSIGN_OR_RETURN(f.wal_end, in.U64("the end LSN"));
    ASSIGN_OR_RETURN(uint64_t time, in.U64("the send time"));
    f.send_time = PgTimeToUnix(time);
    ASSIGN_OR_RETURN(uint8_t reply, in.U8("the reply-requested flag"));
    f.reply_requested = reply != 0;
    RETURN_IF_ERROR(in.ExpectEnd());
    return ReplicationFrame(f);
  }
  return Unimplemented("unknown replication frame type " + DescribeByte(type) +
                       " at byte 0 (expected 'w' XLogData or 'k' Primary keepalive)");
}

std::string EncodeStandbyStatusUpdate(const StandbyStatusUpdate& update) {
  std::string out;
  out.reserve(34);
  auto put64 = [&](uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(char(uint8_t(v >> shift)));
  };
  out.push_back('r');
  put64(update.write);
  put64(update.flush);
  put64(update.apply);
  put64(uint64_t(update.clock) - uint64_t(kPgEpochUnixMicros));
  out.push_back(update.reply_requested ? 1 : 0);
  return out;
}

Result<PgOutputMessage> DecodePgOutput(std::string_view data) {
  if (data.empty()) return DataLoss("malformed pgoutput message: empty");
  const uint8_t type = uint8_t(data[0]);
  const std::string_view name = MessageName(type);
  if (name.empty()) {
    std::string hint;
    if (type == 'S' || type == 'E' || type == 'c' || type == 'A') {
      hint = " (a streamed-transaction message: proto_version 1 with streaming off never sends it)";
    } else if (type == 'P' || type == 'K' || type == 'r' || type == 'p' || type == 'b') {
      hint = " (a two-phase commit message: proto_version 1 never sends it)";
    }
    return Unimplemented("unknown pgoutput message type " + DescribeByte(type) + " at byte 0" +
                         hint);
  }
  ByteReader in(data, "pgoutput " + std::string(name) + " (" + DescribeByte(type) + ") message");
  (void)in.Bytes(1, "the message type");
  Result<PgOutputMessage> message = [&]() -> Result<PgOutputMessage> {
    switch (type) {
      case 'B':
        return DecodeBegin(in);
      case 'C':
        return DecodeCommit(in);
      case 'O':
        return DecodeOrigin(in);
      case 'R':
        return DecodeRelation(in);
      case 'Y':
        return DecodeType(in);
      case 'I':
        return DecodeInsert(in);
      case 'U':
        return DecodeUpdate(in);
      case 'D':
        return DecodeDelete(in);
      case 'T':
        return DecodeTruncate(in);
      default:
        return DecodeMessage(in);
    }
  }();
  if (!message.ok()) return message;
  RETURN_IF_ERROR(in.ExpectEnd());
  return message;
}

}  // namespace sluice
