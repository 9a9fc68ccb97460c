// Helpers shared by the tests of crio-cri/oci: a throwaway folder and expectations on
// crio::Error.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"

namespace crio::cri::oci::testing {

// A temporary folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/crio-oci-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `text` to `relative`, creating the parent folders.
  std::string write(const std::string& relative, const std::string& text) const {
    std::filesystem::path file = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }

  std::string mkdir(const std::string& relative) const {
    std::filesystem::path dir = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(dir);
    return dir.string();
  }

 private:
  std::string path_;
};

}  // namespace crio::cri::oci::testing

// Expects `statement` to throw crio::Error of `category` whose message contains `fragment`.
#define EXPECT_CRIO_ERROR(statement, expectedCategory, expectedFragment)                         \
  do {                                                                                           \
    try {                                                                                        \
      statement;                                                                                 \
      ADD_FAILURE() << "expected crio::Error containing \"" << (expectedFragment) << "\"";       \
    } catch (const ::crio::Error& thrown) {                                                      \
      EXPECT_EQ(::crio::categoryName(thrown.category()), ::crio::categoryName(expectedCategory)) \
          << thrown.what();                                                                      \
      EXPECT_NE(std::string(thrown.what()).find(expectedFragment), std::string::npos)            \
          << thrown.what();                                                                      \
    }                                                                                            \
  } while (false)
