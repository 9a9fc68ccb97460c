#include "crio-imaged/certs-dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::imaged {
namespace {

namespace fs = std::filesystem;

class CertsDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-certs-dir-test-XXXXXX";
    root_ = mkdtemp(pattern);
    fs::create_directories(root_ + "/reg.example:5000");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/reg.example:5000/" + name) << text;
  }

  std::string root_;
};

TEST_F(CertsDirTest, MissingFolderMeansSystemCasOnly) {
  TlsFiles files = loadCertsDir(root_, "other.example");
  EXPECT_TRUE(files.extraCaPem.empty());
  EXPECT_TRUE(files.clientCertPem.empty());
  EXPECT_TRUE(loadCertsDir(root_, "../etc").paths.empty());
}

TEST_F(CertsDirTest, ConcatenatesCasAndReadsClientPair) {
  write("a.crt", "CA-A");
  write("b.crt", "CA-B\n");
  write("client.cert", "CERT");
  write("client.key", "KEY");
  write("README", "ignored");
  TlsFiles files = loadCertsDir(root_, "reg.example:5000");
  EXPECT_EQ(files.extraCaPem, "CA-A\nCA-B\n");
  EXPECT_EQ(files.clientCertPem, "CERT");
  EXPECT_EQ(files.clientKeyPem, "KEY");
  EXPECT_EQ(files.paths.size(), 4u);
}

TEST_F(CertsDirTest, CertWithoutKeyIsAnError) {
  write("client.cert", "CERT");
  try {
    loadCertsDir(root_, "reg.example:5000");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_NE(std::string(e.what()).find("client.key"), std::string::npos) << e.what();
  }
}

TEST_F(CertsDirTest, KeyWithoutCertIsAnError) {
  write("client.key", "KEY");
  EXPECT_THROW(loadCertsDir(root_, "reg.example:5000"), Error);
}

}  // namespace
}  // namespace crio::imaged
