#include "tls_material.h"

#include <sstream>
#include <stdexcept>
#include <vector>

#include "process.h"
#include "temp_dir.h"

namespace testsupport {

namespace {

// Our own config so the result does not depend on the distribution's openssl.cnf defaults.
constexpr const char* kOpensslConfig = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
)";

// One `openssl req -x509` run makes a key and its certificate, self-signed or signed by `issuer`.
void make_certificate(const std::string& config, const std::string& extensions, const std::string& subject,
                      const std::string& cert, const std::string& key, const std::string& issuer_cert = "",
                      const std::string& issuer_key = "") {
  std::vector<std::string> argv{"openssl",
                                "req",
                                "-x509",
                                "-config",
                                config,
                                "-extensions",
                                extensions,
                                "-newkey",
                                "ec",
                                "-pkeyopt",
                                "ec_paramgen_curve:prime256v1",
                                "-noenc",
                                "-keyout",
                                key,
                                "-out",
                                cert,
                                "-days",
                                "3650",
                                "-subj",
                                subject};
  if (!issuer_cert.empty()) {
    argv.insert(argv.end(), {"-CA", issuer_cert, "-CAkey", issuer_key});
  }
  // OPENSSL_CONF could point elsewhere; -config above already decides everything.
  const RunResult result = run(argv, {{"OPENSSL_CONF", std::nullopt}}, "", 30000);
  if (result.exit_code != 0 || result.timed_out) {
    std::ostringstream msg;
    msg << "openssl failed making " << cert << ": " << result;
    throw std::runtime_error(msg.str());
  }
}

}  // namespace

TlsMaterial make_tls_material(const std::string& dir) {
  TlsMaterial m;
  m.ca_cert = dir + "/ca.crt";
  m.ca_key = dir + "/ca.key";
  m.server_cert = dir + "/server.crt";
  m.server_key = dir + "/server.key";
  m.client_cert = dir + "/client.crt";
  m.client_key = dir + "/client.key";
  m.untrusted_ca_cert = dir + "/untrusted-ca.crt";
  const std::string config = dir + "/openssl.cnf";
  write_file(config, kOpensslConfig);
  make_certificate(config, "ca_ext", "/CN=sessionctl-test-ca", m.ca_cert, m.ca_key);
  make_certificate(config, "server_ext", "/CN=localhost", m.server_cert, m.server_key, m.ca_cert, m.ca_key);
  make_certificate(config, "client_ext", "/CN=sessionctl-test-client", m.client_cert, m.client_key, m.ca_cert,
                   m.ca_key);
  make_certificate(config, "ca_ext", "/CN=sessionctl-test-untrusted-ca", m.untrusted_ca_cert,
                   dir + "/untrusted-ca.key");
  return m;
}

}  // namespace testsupport
