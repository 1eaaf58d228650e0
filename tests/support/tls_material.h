#pragma once

#include <string>

namespace testsupport {

// Paths of PEM files made by make_tls_material(); all EC prime256v1, valid for ten years.
struct TlsMaterial {
  std::string ca_cert;            // self-signed CA "sessionctl-test-ca"
  std::string ca_key;             // its private key
  std::string server_cert;        // signed by ca_cert; CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key;         // its private key
  std::string client_cert;        // signed by ca_cert; CN=sessionctl-test-client, clientAuth
  std::string client_key;         // its private key
  std::string untrusted_ca_cert;  // an unrelated self-signed CA that signed nothing here
};

// Creates the CA, server, client and untrusted-CA files in `dir` with the real openssl binary
// (one invocation per certificate); throws std::runtime_error with openssl's stderr on failure.
TlsMaterial make_tls_material(const std::string& dir);

}  // namespace testsupport
