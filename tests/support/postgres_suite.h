// PostgresSuite: a GoogleTest fixture with one throwaway PostgreSQL server per test suite
// (starting one takes about a second) and a fresh connection per test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "postgres_server.h"

namespace sluice::testing {

class PostgresSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = PostgresServer::Start();
    if (!server.ok()) {
      start_error_ = server.status().ToString();
      return;
    }
    server_ = std::move(server).value();
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (!server_) GTEST_FAIL() << "PostgreSQL did not start: " << start_error_;
    auto conn = PgConnection::Open(server_->conninfo());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
  }

  void Exec(const std::string& sql) {
    Status s = conn_->Exec(sql);
    ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString();
  }

  static inline std::unique_ptr<PostgresServer> server_;
  static inline std::string start_error_;
  std::unique_ptr<PgConnection> conn_;
};

}  // namespace sluice::testing
