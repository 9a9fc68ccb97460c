#include "crio-imaged/certs-dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace crio::imaged {

namespace {

namespace fs = std::filesystem;

std::string readCertFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    fail(ErrorCategory::FAILED_PRECONDITION, "cannot read " + path.string() + ": " + ec.message());
  }
  if (size > MAX_CERT_FILE_BYTES) {
    fail(ErrorCategory::FAILED_PRECONDITION, path.string() + " is larger than the limit of " +
                                                 std::to_string(MAX_CERT_FILE_BYTES) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "cannot open " + path.string() + "; it must be readable by crio-imaged's user");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

TlsFiles loadCertsDir(const std::string& certsDir, const std::string& hostPort) {
  TlsFiles files;
  if (certsDir.empty() || hostPort.empty() || hostPort.find('/') != std::string::npos ||
      hostPort == "." || hostPort == "..") {
    return files;
  }
  fs::path dir = fs::path(certsDir) / hostPort;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;

  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entries.size() >= MAX_CERT_FILES) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           dir.string() + " has more than " + std::to_string(MAX_CERT_FILES) + " entries");
    }
    entries.push_back(entry.path());
  }
  if (ec) {
    fail(ErrorCategory::FAILED_PRECONDITION, "cannot list " + dir.string() + ": " + ec.message());
  }
  std::sort(entries.begin(), entries.end());

  for (const fs::path& path : entries) {
    std::string extension = path.extension().string();
    if (extension == ".crt") {
      std::string pem = readCertFile(path);
      if (!pem.empty() && pem.back() != '\n') pem.push_back('\n');
      files.extraCaPem += pem;
      files.paths.push_back(path.string());
    } else if (extension == ".cert") {
      fs::path key = path;
      key.replace_extension(".key");
      if (!fs::exists(key, ec)) {
        fail(ErrorCategory::FAILED_PRECONDITION,
             "client certificate " + path.string() + " has no key " + key.string());
      }
      if (files.clientCertPem.empty()) {
        files.clientCertPem = readCertFile(path);
        files.clientKeyPem = readCertFile(key);
        files.paths.push_back(path.string());
        files.paths.push_back(key.string());
      }
    } else if (extension == ".key") {
      fs::path cert = path;
      cert.replace_extension(".cert");
      if (!fs::exists(cert, ec)) {
        fail(ErrorCategory::FAILED_PRECONDITION,
             "client key " + path.string() + " has no certificate " + cert.string());
      }
    }
  }
  return files;
}

}  // namespace crio::imaged
