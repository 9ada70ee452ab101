#include "server/auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include "common/temp_dir.h"

namespace sluice {
namespace {

// Tokens are made by PyJWT (Debian's python3-jwt), never by the code under test.
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kScriptsDir[] = SLUICE_AUTH_SCRIPTS_DIR;
constexpr int64_t kNow = 1'750'000'000;
constexpr char kSecret[] = "correct horse battery staple, 32+ bytes of secret";
constexpr char kAudience[] = "sluice";
constexpr char kIssuer[] = "https://idp.example";

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string Pem(EVP_PKEY* key, bool private_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  int ok = private_key
               ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_PUBKEY(bio.get(), key);
  EXPECT_EQ(ok, 1);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string Quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a tests/auth script with /usr/bin/python3; its stdout, trailing newline removed.
std::string RunScript(const std::string& script, const std::string& args) {
  std::string command =
      std::string(kPython) + " " + Quote(std::string(kScriptsDir) + "/" + script) + " " + args;
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

struct CorpusEntry {
  std::string name, token, reason;  // reason empty: a token to accept
  std::string sub, access;
  int64_t exp = 0;
};

// Keys, a JWKS and the token corpus, made once for every test.
class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("sluice_jwt_test");
    rsa_.reset(EVP_RSA_gen(2048));
    ec_.reset(EVP_EC_gen("P-256"));
    ASSERT_TRUE(rsa_ && ec_);
    WriteFile(Path("secret"), kSecret);
    WriteFile(Path("rsa.pem"), Pem(rsa_.get(), true));
    WriteFile(Path("ec.pem"), Pem(ec_.get(), true));
    WriteFile(Path("rsa.pub.pem"), Pem(rsa_.get(), false));
    WriteFile(Path("ec.pub.pem"), Pem(ec_.get(), false));
    jwks_ = RunScript("sign.py", "jwks --rsa " + Quote(Path("rsa.pub.pem") + ":rsa-1") + " --ec " +
                                     Quote(Path("ec.pub.pem") + ":ec-1"));
    RunScript("bad_tokens.py", "--good --now " + std::to_string(kNow) + " --secret-file " +
                                   Quote(Path("secret")) + " --rsa-key " + Quote(Path("rsa.pem")) +
                                   " --ec-key " + Quote(Path("ec.pem")) + " --out " +
                                   Quote(Path("corpus.jsonl")) + " 2>/dev/null");
    ReadCorpus(Path("corpus.jsonl"));
  }
  static void TearDownTestSuite() {
    corpus_.clear();
    rsa_.reset();
    ec_.reset();
    dir_.reset();
  }

  static std::string Path(const std::string& name) { return dir_->str() + "/" + name; }

  static void ReadCorpus(const std::string& path) {
    simdjson::dom::parser parser;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      simdjson::dom::element e = parser.parse(line).value();
      CorpusEntry entry;
      entry.name = std::string(e["name"].get_string().value());
      entry.token = std::string(e["token"].get_string().value());
      if (e["reason"].is_string()) {
        entry.reason = std::string(e["reason"].get_string().value());
      } else {
        entry.sub = std::string(e["sub"].get_string().value());
        entry.exp = e["exp"].get_int64().value();
        entry.access = std::string(e["access"].get_string().value());
      }
      corpus_.push_back(std::move(entry));
    }
  }

  // The configuration bad_tokens.py writes its reasons for.
  static JwtOptions CorpusOptions() {
    JwtOptions options;
    options.secret = kSecret;
    options.jwks_json = jwks_;
    options.audience = kAudience;
    options.issuer = kIssuer;
    options.leeway_seconds = 30;
    return options;
  }

  static std::unique_ptr<JwtVerifier> Verifier(const JwtOptions& options) {
    auto verifier = JwtVerifier::Create(options);
    EXPECT_TRUE(verifier.ok()) << verifier.status().ToString();
    return verifier.ok() ? std::move(verifier).value() : nullptr;
  }

  // A token PyJWT signs with the key in `key_file` (a private PEM, or the secret for HS256).
  // raw: the claims text is signed byte for byte (PyJWT would re-serialize it).
  static std::string Sign(const std::string& alg, const std::string& key_file,
                          const std::string& claims, const std::string& kid = "",
                          bool raw = false) {
    return RunScript("sign.py", "token --alg " + alg + " --key " + Quote(Path(key_file)) +
                                    (kid.empty() ? "" : " --kid " + Quote(kid)) + " --claims " +
                                    Quote(claims) + (raw ? " --raw" : ""));
  }

  static std::string Claims(const std::string& access = R"("all")") {
    return R"({"sub":"carol","exp":)" + std::to_string(kNow + 600) + R"(,"aud":"sluice",)" +
           R"("iss":"https://idp.example","access":)" + access + "}";
  }

  static void ExpectRefused(const Result<VerifiedToken>& result, const std::string& reason) {
    ASSERT_FALSE(result.ok()) << "accepted; expected: " << reason;
    EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(result.status().message(), reason);
  }

  static std::unique_ptr<TempDir> dir_;
  static Pkey rsa_, ec_;
  static std::string jwks_;
  static std::vector<CorpusEntry> corpus_;
};

std::unique_ptr<TempDir> JwtTest::dir_;
Pkey JwtTest::rsa_;
Pkey JwtTest::ec_;
std::string JwtTest::jwks_;
std::vector<CorpusEntry> JwtTest::corpus_;

TEST_F(JwtTest, EveryBadTokenOfTheCorpusIsRefusedWithItsReason) {
  auto verifier = Verifier(CorpusOptions());
  ASSERT_NE(verifier, nullptr);
  size_t bad = 0;
  for (const CorpusEntry& entry : corpus_) {
    if (entry.reason.empty()) continue;
    ++bad;
    SCOPED_TRACE(entry.name);
    ExpectRefused(verifier->Verify(entry.token, kNow), entry.reason);
  }
  EXPECT_GE(bad, 50u);
}

TEST_F(JwtTest, GoodTokensOfTheCorpusVerifyWithTheirClaims) {
  auto verifier = Verifier(CorpusOptions());
  ASSERT_NE(verifier, nullptr);
  size_t good = 0;
  for (const CorpusEntry& entry : corpus_) {
    if (!entry.reason.empty()) continue;
    ++good;
    SCOPED_TRACE(entry.name);
    Result<VerifiedToken> verified = verifier->Verify(entry.token, kNow);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->subject, entry.sub);
    EXPECT_EQ(verified->expires_at, entry.exp);
    EXPECT_EQ(verified->access_json, entry.access);
  }
  EXPECT_GE(good, 5u);
}

TEST_F(JwtTest, AccessObjectIsReturnedExactlyAsSigned) {
  auto verifier = Verifier(CorpusOptions());
  ASSERT_NE(verifier, nullptr);
  // Spellings a re-serialization would change: 1.50, excess digits, \u escapes, spaces.
  const std::string access =
      R"({"endpoints": {"orders": {"filter": {"total": {"$gt": 1.50}, "rate": )"
      R"(0.1000000000000000055511151231257827, "name": "\u00e9"}, "fields": ["id", "total"]}}})";
  for (const auto& [alg, key, kid] :
       {std::tuple{"HS256", "secret", ""}, std::tuple{"RS256", "rsa.pem", "rsa-1"},
        std::tuple{"ES256", "ec.pem", "ec-1"}}) {
    SCOPED_TRACE(alg);
    // Whitespace around the object, too.
    const std::string claims = R"({"aud":"sluice","access":  )" + access +
                               R"(  ,"sub":"carol","iss":"https://idp.example","exp":)" +
                               std::to_string(kNow + 600) + "}";
    Result<VerifiedToken> verified = verifier->Verify(Sign(alg, key, claims, kid, true), kNow);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->access_json, access);
    EXPECT_EQ(verified->subject, "carol");
  }
}

TEST_F(JwtTest, PublicKeyPemVerifiesItsAlgorithmOnly) {
  JwtOptions rsa_only;
  rsa_only.public_key_pem = Pem(rsa_.get(), false);
  auto rsa = Verifier(rsa_only);
  JwtOptions ec_only;
  ec_only.public_key_pem = Pem(ec_.get(), false);
  auto ec = Verifier(ec_only);
  ASSERT_TRUE(rsa && ec);

  // A lone PEM key does not know kids: any kid (or none) is checked against it.
  EXPECT_TRUE(rsa->Verify(Sign("RS256", "rsa.pem", Claims()), kNow).ok());
  EXPECT_TRUE(rsa->Verify(Sign("RS256", "rsa.pem", Claims(), "idp-key-7"), kNow).ok());
  EXPECT_TRUE(ec->Verify(Sign("ES256", "ec.pem", Claims(), "idp-key-7"), kNow).ok());

  // Algorithm confusion: HMAC keyed with the very PEM text the verifier holds.
  WriteFile(Path("rsa.pub.as-secret"), rsa_only.public_key_pem);
  WriteFile(Path("ec.pub.as-secret"), ec_only.public_key_pem);
  ExpectRefused(rsa->Verify(Sign("HS256", "rsa.pub.as-secret", Claims(), "", true), kNow),
                "unsupported algorithm");
  ExpectRefused(ec->Verify(Sign("HS256", "ec.pub.as-secret", Claims(), "", true), kNow),
                "unsupported algorithm");
  // The other asymmetric algorithm has no key here.
  ExpectRefused(rsa->Verify(Sign("ES256", "ec.pem", Claims()), kNow), "unsupported algorithm");
  ExpectRefused(ec->Verify(Sign("RS256", "rsa.pem", Claims()), kNow), "unsupported algorithm");
}

TEST_F(JwtTest, SecretOnlyRefusesAsymmetricTokens) {
  JwtOptions options;
  options.secret = kSecret;
  auto verifier = Verifier(options);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(Sign("HS256", "secret", Claims()), kNow).ok());
  ExpectRefused(verifier->Verify(Sign("RS256", "rsa.pem", Claims(), "rsa-1"), kNow),
                "unsupported algorithm");
  // No audience or issuer configured: the claims are not required.
  EXPECT_TRUE(verifier
                  ->Verify(Sign("HS256", "secret",
                                R"({"exp":)" + std::to_string(kNow + 5) + R"(,"access":"all"})"),
                           kNow)
                  .ok());
}

TEST_F(JwtTest, JwksWithSeveralKeysOfAKindNeedsTheKid) {
  Pkey second(EVP_RSA_gen(2048));
  ASSERT_TRUE(second);
  WriteFile(Path("rsa2.pem"), Pem(second.get(), true));
  WriteFile(Path("rsa2.pub.pem"), Pem(second.get(), false));
  JwtOptions options;
  options.jwks_json = RunScript("sign.py", "jwks --rsa " + Quote(Path("rsa.pub.pem") + ":a") +
                                               " --rsa " + Quote(Path("rsa2.pub.pem") + ":b"));
  auto verifier = Verifier(options);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(Sign("RS256", "rsa.pem", Claims(), "a"), kNow).ok());
  EXPECT_TRUE(verifier->Verify(Sign("RS256", "rsa2.pem", Claims(), "b"), kNow).ok());
  ExpectRefused(verifier->Verify(Sign("RS256", "rsa2.pem", Claims(), "a"), kNow),
                "invalid signature");
  ExpectRefused(verifier->Verify(Sign("RS256", "rsa.pem", Claims()), kNow), "unknown key");
  ExpectRefused(verifier->Verify(Sign("RS256", "rsa.pem", Claims(), "c"), kNow), "unknown key");
}

TEST_F(JwtTest, TimeChecksHonourTheLeeway) {
  JwtOptions options;
  options.secret = kSecret;
  options.leeway_seconds = 0;
  auto strict = Verifier(options);
  ASSERT_NE(strict, nullptr);
  auto token = [&](const std::string& extra) {
    return Sign("HS256", "secret",
                R"({"exp":)" + std::to_string(kNow + 100) + extra + R"(,"access":"all"})");
  };
  EXPECT_TRUE(strict->Verify(token(""), kNow + 99).ok());
  ExpectRefused(strict->Verify(token(""), kNow + 100), "token expired");
  ExpectRefused(strict->Verify(token(R"(,"nbf":)" + std::to_string(kNow + 1)), kNow),
                "token not yet valid");
  EXPECT_TRUE(strict->Verify(token(R"(,"nbf":)" + std::to_string(kNow)), kNow).ok());
  ExpectRefused(strict->Verify(token(R"(,"iat":)" + std::to_string(kNow + 1)), kNow),
                "invalid claims");
}

TEST_F(JwtTest, IssuedTokensVerifyHereAndInPyJwt) {
  auto verifier = Verifier(CorpusOptions());
  ASSERT_NE(verifier, nullptr);
  const std::string access = R"({"endpoints":{"orders":{"fields":["id"]}}})";
  Result<std::string> token = IssueToken(kSecret, access, 900, kNow, "dave", kAudience, kIssuer);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  Result<VerifiedToken> verified = verifier->Verify(*token, kNow);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->subject, "dave");
  EXPECT_EQ(verified->expires_at, kNow + 900);
  EXPECT_EQ(verified->access_json, access);
  ExpectRefused(verifier->Verify(*token, kNow + 900 + 30), "token expired");

  // PyJWT checks exp against the real clock, so issue one that is valid now.
  const int64_t now = std::time(nullptr);
  token = IssueToken(kSecret, R"("all")", 60, now, "erin", kAudience, kIssuer);
  ASSERT_TRUE(token.ok());
  const std::string decoded =
      RunScript("sign.py", "decode --key " + Quote(Path("secret")) + " --token " + Quote(*token) +
                               " --audience sluice --issuer " + Quote(kIssuer));
  EXPECT_EQ(decoded, R"({"access":"all","aud":"sluice","exp":)" + std::to_string(now + 60) +
                         R"(,"iat":)" + std::to_string(now) +
                         R"(,"iss":"https://idp.example","sub":"erin"})");
}

TEST_F(JwtTest, IssueTokenRefusesBadInput) {
  EXPECT_EQ(IssueToken("", R"("all")", 60, kNow).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueToken(kSecret, R"("all")", 0, kNow).status().code(), StatusCode::kInvalidArgument);
  for (const char* access : {R"("none")", "[1]", "all", "{", "null", R"({"a":1} {})"}) {
    SCOPED_TRACE(access);
    EXPECT_EQ(IssueToken(kSecret, access, 60, kNow).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(JwtTest, CreateRefusesMissingOrUnusableKeys) {
  auto refused = [](const JwtOptions& options, const std::string& fragment) {
    Result<std::unique_ptr<JwtVerifier>> created = JwtVerifier::Create(options);
    ASSERT_FALSE(created.ok()) << "accepted; expected: " << fragment;
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(created.status().message().find(fragment), std::string::npos)
        << created.status().message();
  };
  auto pem = [](const std::string& text) {
    JwtOptions o;
    o.public_key_pem = text;
    return o;
  };
  auto jwks = [](const std::string& text) {
    JwtOptions o;
    o.jwks_json = text;
    return o;
  };
  refused(JwtOptions{}, "needs a key");
  JwtOptions negative;
  negative.secret = kSecret;
  negative.leeway_seconds = -1;
  refused(negative, "leeway");

  refused(pem("not a key"), "no PEM public key");
  refused(pem(Pem(rsa_.get(), true)), "private key");
  Pkey p384(EVP_EC_gen("P-384"));
  refused(pem(Pem(p384.get(), false)), "only P-256");
  Pkey small(EVP_RSA_gen(1024));
  refused(pem(Pem(small.get(), false)), "at least 2048");

  refused(jwks("{"), "not valid JSON");
  refused(jwks(R"({"nokeys":[]})"), R"("keys" array)");
  refused(jwks(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})"), "no RS256");
  refused(jwks(R"({"keys":[{"kid":"x"}]})"), "missing 'kty'");
  refused(jwks(R"({"keys":[{"kty":"RSA","n":"AQAB"}]})"), "missing string member 'e'");
  refused(jwks(R"({"keys":[{"kty":"RSA","n":"AQAB=","e":"AQAB"}]})"), "base64url");

  // Built from the real JWKS: private material, a repeated kid, a point off the curve.
  simdjson::dom::parser parser;
  simdjson::dom::array keys = parser.parse(jwks_)["keys"].get_array().value();
  std::string rsa_jwk = simdjson::minify(keys.at(0).value());
  std::string ec_jwk = simdjson::minify(keys.at(1).value());
  refused(jwks(R"({"keys":[)" + rsa_jwk.substr(0, rsa_jwk.size() - 1) + R"(,"d":"AQAB"}]})"),
          "private key material");
  refused(jwks(R"({"keys":[)" + rsa_jwk + "," + rsa_jwk + "]}"), "more than once");
  std::string bent = ec_jwk;
  size_t y = bent.find(R"("y":")") + 5;
  bent[y] = bent[y] == 'A' ? 'B' : 'A';
  refused(jwks(R"({"keys":[)" + bent + "]}"), "not a valid EC public key");

  // Keys Sluice cannot use are skipped when a usable one remains.
  std::string mixed = R"({"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"OKP","crv":"Ed25519",)"
                      R"("x":"AAAA"},)" +
                      ec_jwk + "]}";
  EXPECT_TRUE(JwtVerifier::Create(jwks(mixed)).ok());
}

TEST_F(JwtTest, VerifiesFromManyThreadsAtOnce) {
  auto verifier = Verifier(CorpusOptions());
  ASSERT_NE(verifier, nullptr);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 5; ++round) {
        for (const CorpusEntry& entry : corpus_) {
          Result<VerifiedToken> result = verifier->Verify(entry.token, kNow);
          bool expected = entry.reason.empty()
                              ? result.ok() && result->access_json == entry.access
                              : !result.ok() && result.status().message() == entry.reason;
          if (!expected) ++mismatches;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace sluice
