// The JetStream backend of the change log (log: {kind: jetstream}): the app ships every durable
// entry of its local log into a JetStream stream, and API nodes follow that stream — through a
// NATS cluster, the app and API nodes need no connection to each other.
//
// Stream layout (stream `log.stream`, subjects <stream>.serving and <stream>.entries):
//   <stream>.serving  one message per log generation: header Sluice-Generation, body the serving
//                     info. A new generation purges the stream first.
//   <stream>.entries  the served part of each entry (control/log_entry.h), in order; header
//                     Sluice-Seq (the log's sequence number), and Sluice-Part/Sluice-Parts when
//                     an entry is larger than the server's max payload and split. Published with
//                     Nats-Msg-Id <generation>:<seq>:<part>, so a retried publish is stored once.
// The shipper resumes after the last entry the stream holds. An API node follows with a
// durable pull consumer named after it, created at the stream position of the entry after the
// one its cache holds (found by binary search on Sluice-Seq), acknowledging each message.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "log/log_feed.h"
#include "log/log_follower.h"

namespace sluice {

// Ships `feed` into the stream on its own thread, reconnecting as long as it runs.
class JetStreamShipper {
 public:
  JetStreamShipper(LogFeed& feed, LogConfig config);
  ~JetStreamShipper();  // stops
  void Start();
  void Stop();
  // Last entry the stream is known to hold (for tests and logs).
  uint64_t shipped() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<LogFollower> MakeJetStreamFollower(const LogConfig& config,
                                                   const std::string& follower);

}  // namespace sluice
