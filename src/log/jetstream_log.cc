#include "log/jetstream_log.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

#include "common/stop_wait.h"

namespace sluice {
namespace {

constexpr const char* kGenerationHeader = "Sluice-Generation";
constexpr const char* kSeqHeader = "Sluice-Seq";
constexpr const char* kPartHeader = "Sluice-Part";
constexpr const char* kPartsHeader = "Sluice-Parts";
constexpr int64_t kRequestWaitMs = 5000;
constexpr auto kRetryInterval = std::chrono::milliseconds(500);
constexpr int kFetchBatch = 256;
constexpr int64_t kFetchWaitMs = 500;

Status NatsError(const std::string& what, natsStatus s, jsErrCode jerr = jsErrCode(0)) {
  std::string message = what + ": " + natsStatus_GetText(s);
  if (jerr != 0) message += " (JetStream error " + std::to_string(int(jerr)) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && message.find(last) == std::string::npos) message += "; " + std::string(last);
  return Unavailable(message);
}

std::string Header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  return natsMsgHeader_Get(msg, key, &value) == NATS_OK && value ? value : "";
}

uint64_t HeaderNumber(natsMsg* msg, const char* key) {
  const std::string v = Header(msg, key);
  return v.empty() ? 0 : std::stoull(v);
}

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// A connection to the cluster and its JetStream context.
class Nats {
 public:
  ~Nats() {
    if (js_) jsCtx_Destroy(js_);
    if (nc_) natsConnection_Destroy(nc_);
  }

  Status Connect(const LogConfig& config, const std::string& name) {
    stream_ = config.stream;
    natsOptions* opts = nullptr;
    natsStatus s = natsOptions_Create(&opts);
    std::vector<std::string> servers;
    std::stringstream list(config.servers);
    for (std::string server; std::getline(list, server, ',');) {
      if (!server.empty()) servers.push_back(server);
    }
    std::vector<const char*> urls;
    for (const auto& server : servers) urls.push_back(server.c_str());
    if (s == NATS_OK) s = natsOptions_SetServers(opts, urls.data(), int(urls.size()));
    if (s == NATS_OK) s = natsOptions_SetName(opts, name.c_str());
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
    if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) return NatsError("cannot connect to NATS at " + config.servers, s);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = kRequestWaitMs;
    s = natsConnection_JetStream(&js_, nc_, &jo);
    if (s != NATS_OK) return NatsError("cannot use JetStream at " + config.servers, s);
    return Status::OK();
  }

  Status EnsureStream(int replicas) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream_.c_str();
    const std::string subjects = stream_ + ".>";
    const char* list[] = {subjects.c_str()};
    cfg.Subjects = list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = jsErrCode(0);
    natsStatus s = js_AddStream(&info, js_, &cfg, nullptr, &jerr);
    if (info) jsStreamInfo_Destroy(info);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) return Status::OK();
    return NatsError("cannot create JetStream stream " + stream_, s, jerr);
  }

  // The last message on `subject`, or null when there is none.
  Result<MsgPtr> Last(const std::string& subject) {
    natsMsg* msg = nullptr;
    jsErrCode jerr = jsErrCode(0);
    natsStatus s = js_GetLastMsg(&msg, js_, stream_.c_str(), subject.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND) return MsgPtr();
    if (s != NATS_OK) return NatsError("cannot read " + subject, s, jerr);
    return MsgPtr(msg);
  }

  Result<MsgPtr> Get(uint64_t stream_seq) {
    natsMsg* msg = nullptr;
    jsErrCode jerr = jsErrCode(0);
    natsStatus s = js_GetMsg(&msg, js_, stream_.c_str(), stream_seq, nullptr, &jerr);
    if (s == NATS_NOT_FOUND) return MsgPtr();
    if (s != NATS_OK)
      return NatsError("cannot read message " + std::to_string(stream_seq), s, jerr);
    return MsgPtr(msg);
  }

  Status Publish(const std::string& subject, std::string_view data,
                 const std::vector<std::pair<const char*, std::string>>& headers,
                 const std::string& id) {
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), int(data.size()));
    for (const auto& [key, value] : headers) {
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, key, value.c_str());
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    jsPubAck* ack = nullptr;
    jsErrCode jerr = jsErrCode(0);
    if (s == NATS_OK) s = js_PublishMsg(&ack, js_, msg, &po, &jerr);
    if (ack) jsPubAck_Destroy(ack);
    natsMsg_Destroy(msg);
    if (s != NATS_OK) return NatsError("cannot publish to " + subject, s, jerr);
    return Status::OK();
  }

  Status Purge() {
    jsErrCode jerr = jsErrCode(0);
    natsStatus s = js_PurgeStream(js_, stream_.c_str(), nullptr, &jerr);
    return s == NATS_OK ? Status::OK() : NatsError("cannot purge " + stream_, s, jerr);
  }

  natsConnection* nc() { return nc_; }
  jsCtx* js() { return js_; }
  const std::string& stream() const { return stream_; }
  std::string subject(const char* leaf) const { return stream_ + "." + leaf; }

 private:
  std::string stream_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace

struct JetStreamShipper::Impl {
  Impl(LogFeed& f, LogConfig c) : feed(f), config(std::move(c)) {}
  LogFeed& feed;
  LogConfig config;
  std::jthread thread;
  std::atomic<uint64_t> shipped{0};

  // Ships until stop or a failure (then the caller reconnects).
  Status Ship(std::stop_token stop) {
    Nats nats;
    RETURN_IF_ERROR(nats.Connect(config, "sluice app"));
    RETURN_IF_ERROR(nats.EnsureStream(config.replicas));
    const std::string generation = feed.generation();
    ASSIGN_OR_RETURN(MsgPtr serving, nats.Last(nats.subject("serving")));
    uint64_t done = 0;
    if (!serving || Header(serving.get(), kGenerationHeader) != generation) {
      // A new log: the stream starts over with it.
      RETURN_IF_ERROR(nats.Purge());
      RETURN_IF_ERROR(nats.Publish(nats.subject("serving"), feed.serving_info(),
                                   {{kGenerationHeader, generation}}, generation + ":serving"));
      spdlog::info("JetStream stream {}: started log generation {}", nats.stream(), generation);
    } else {
      ASSIGN_OR_RETURN(MsgPtr last, nats.Last(nats.subject("entries")));
      if (last) {
        done = HeaderNumber(last.get(), kSeqHeader);
        // A split entry whose last parts never arrived is shipped again (ids keep parts once).
        if (HeaderNumber(last.get(), kPartHeader) + 1 < HeaderNumber(last.get(), kPartsHeader)) {
          --done;
        }
      }
    }
    shipped = done;
    const size_t max_part =
        size_t(std::max<int64_t>(natsConnection_GetMaxPayload(nats.nc()) - 4096, 1024));
    spdlog::info("shipping the change log to JetStream stream {} after entry {}", nats.stream(),
                 done);
    while (!stop.stop_requested()) {
      const uint64_t durable = feed.WaitBeyond(done, std::chrono::milliseconds(200));
      if (durable <= done) continue;
      Status published;
      RETURN_IF_ERROR(feed.Read(done + 1, durable, [&](uint64_t seq, std::string_view entry) {
        const size_t parts = std::max<size_t>(1, (entry.size() + max_part - 1) / max_part);
        for (size_t part = 0; part < parts && published.ok(); ++part) {
          published =
              nats.Publish(nats.subject("entries"), entry.substr(part * max_part, max_part),
                           {{kSeqHeader, std::to_string(seq)},
                            {kPartHeader, std::to_string(part)},
                            {kPartsHeader, std::to_string(parts)}},
                           generation + ":" + std::to_string(seq) + ":" + std::to_string(part));
        }
        if (!published.ok()) return false;
        done = seq;
        return !stop.stop_requested();
      }));
      RETURN_IF_ERROR(published);
      shipped = done;
      feed.Applied("jetstream:" + config.stream, done);  // local retention waits for the stream
    }
    return Status::OK();
  }

  void Run(std::stop_token stop) {
    std::string last_error;
    while (!stop.stop_requested()) {
      Status s = Ship(stop);
      if (stop.stop_requested()) break;
      if (s.message() != last_error) {
        spdlog::warn("JetStream shipping interrupted ({}); retrying", s.message());
        last_error = s.message();
      }
      SleepUnlessStopped(stop, kRetryInterval);
    }
  }
};

JetStreamShipper::JetStreamShipper(LogFeed& feed, LogConfig config)
    : impl_(std::make_unique<Impl>(feed, std::move(config))) {}

JetStreamShipper::~JetStreamShipper() { Stop(); }

void JetStreamShipper::Start() {
  impl_->thread = std::jthread([this](std::stop_token stop) { impl_->Run(stop); });
}

void JetStreamShipper::Stop() {
  if (impl_->thread.joinable()) {
    impl_->thread.request_stop();
    impl_->thread.join();
  }
}

uint64_t JetStreamShipper::shipped() const { return impl_->shipped; }

namespace {

class JetStreamFollower final : public LogFollower {
 public:
  JetStreamFollower(LogConfig config, std::string follower)
      : config_(std::move(config)), follower_(std::move(follower)) {
    // A durable name: letters, digits, '-' and '_' only.
    for (char c : follower_) durable_ += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }

  Status Follow(const std::string& generation, uint64_t from_seq, std::stop_token stop,
                const std::function<Status(const FollowHeader&)>& on_header,
                const std::function<Status(uint64_t, std::string_view)>& on_entry) override {
    Nats nats;
    RETURN_IF_ERROR(nats.Connect(config_, "sluice api " + follower_));
    ASSIGN_OR_RETURN(MsgPtr serving, nats.Last(nats.subject("serving")));
    if (!serving) return Unavailable("JetStream stream " + config_.stream + " holds no log yet");
    FollowHeader header;
    header.generation = Header(serving.get(), kGenerationHeader);
    header.serving_info.assign(natsMsg_GetData(serving.get()),
                               size_t(natsMsg_GetDataLength(serving.get())));
    ASSIGN_OR_RETURN(MsgPtr last, nats.Last(nats.subject("entries")));
    if (last) header.last_seq = HeaderNumber(last.get(), kSeqHeader);
    const uint64_t base = natsMsg_GetSequence(serving.get());
    if (header.generation != generation) from_seq = 1;
    RETURN_IF_ERROR(on_header(header));
    // The stream position of entry from_seq's first part.
    uint64_t start = base + 1;
    if (last && from_seq > 1) {
      ASSIGN_OR_RETURN(start, Locate(nats, base + 1, natsMsg_GetSequence(last.get()), from_seq));
    }
    {
      jsErrCode jerr = jsErrCode(0);
      (void)js_DeleteConsumer(nats.js(), config_.stream.c_str(), durable_.c_str(), nullptr, &jerr);
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = config_.stream.c_str();
    so.Config.Durable = durable_.c_str();
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start;
    so.Config.AckPolicy = js_AckExplicit;
    natsSubscription* sub = nullptr;
    jsErrCode jerr = jsErrCode(0);
    const std::string subject = nats.subject("entries");
    natsStatus s =
        js_PullSubscribe(&sub, nats.js(), subject.c_str(), durable_.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) return NatsError("cannot create consumer " + durable_, s, jerr);
    std::unique_ptr<natsSubscription, void (*)(natsSubscription*)> holder(sub,
                                                                          natsSubscription_Destroy);
    std::string assembled;
    uint64_t next = from_seq;
    while (!stop.stop_requested()) {
      natsMsgList list{};
      s = natsSubscription_Fetch(&list, sub, kFetchBatch, kFetchWaitMs, &jerr);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) return NatsError("cannot fetch from " + config_.stream, s, jerr);
      Status failed;
      for (int i = 0; i < list.Count && failed.ok(); ++i) {
        natsMsg* msg = list.Msgs[i];
        const uint64_t seq = HeaderNumber(msg, kSeqHeader);
        const uint64_t part = HeaderNumber(msg, kPartHeader);
        const uint64_t parts = std::max<uint64_t>(1, HeaderNumber(msg, kPartsHeader));
        if (seq < next) {  // before where this follower starts, or a part shipped twice
          natsMsg_Ack(msg, nullptr);
          continue;
        }
        if (part == 0) assembled.clear();
        assembled.append(natsMsg_GetData(msg), size_t(natsMsg_GetDataLength(msg)));
        if (part + 1 == parts) {
          failed = on_entry(seq, assembled);
          if (failed.ok()) next = seq + 1;
        }
        if (failed.ok()) natsMsg_Ack(msg, nullptr);
      }
      natsMsgList_Destroy(&list);
      RETURN_IF_ERROR(failed);
    }
    return Status::OK();
  }

  void Applied(uint64_t) override {}  // each message is acknowledged once applied

  std::string describe() const override { return "JetStream stream " + config_.stream; }

 private:
  // The first stream sequence in [lo, hi] whose entry number is >= seq (hi + 1 if none).
  Result<uint64_t> Locate(Nats& nats, uint64_t lo, uint64_t hi, uint64_t seq) {
    uint64_t end = hi + 1;
    while (lo < end) {
      const uint64_t mid = lo + (end - lo) / 2;
      ASSIGN_OR_RETURN(MsgPtr msg, nats.Get(mid));
      const uint64_t at = msg ? HeaderNumber(msg.get(), kSeqHeader) : 0;
      if (at >= seq) {
        end = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  LogConfig config_;
  std::string follower_;
  std::string durable_;
};

}  // namespace

std::unique_ptr<LogFollower> MakeJetStreamFollower(const LogConfig& config,
                                                   const std::string& follower) {
  return std::make_unique<JetStreamFollower>(config, follower);
}

}  // namespace sluice
