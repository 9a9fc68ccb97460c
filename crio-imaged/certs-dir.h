// Per-registry TLS files as containers-certs.d(5) lays them out: in CERTS_DIR/HOST[:PORT]/,
// every *.crt is a CA certificate trusted for that registry in addition to the system's, and a
// *.cert with the *.key of the same base name is the client certificate and key presented to it.
//
// The files are read when a pull needs them, by crio-imaged's unprivileged user, so they must be
// readable by that user.
#pragma once

#include <string>
#include <vector>

namespace crio::imaged {

constexpr size_t MAX_CERT_FILE_BYTES = 1024 * 1024;
constexpr size_t MAX_CERT_FILES = 64;

struct TlsFiles {
  std::string extraCaPem;     // every *.crt, concatenated; "" for the system CAs alone
  std::string clientCertPem;  // "" when there is no client pair
  std::string clientKeyPem;
  std::vector<std::string> paths;  // files read, for logs
};

// Reads CERTS_DIR/`hostPort`/. A missing folder means no extra files. Throws FAILED_PRECONDITION
// naming the file when one cannot be read, or when a *.cert has no *.key (or the reverse).
TlsFiles loadCertsDir(const std::string& certsDir, const std::string& hostPort);

}  // namespace crio::imaged
