#pragma once
// Test certificates made at test time with the openssl CLI (Debian package `openssl`) in a
// temporary directory: a CA, and server certificates it signs for the names a test asks for.
// Nothing is committed, so nothing expires in the repository. EC P-256 keys keep it fast.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/temp_dir.hpp"

namespace tl::net::testing {

struct ServerCert {
    std::string cert_file;  // PEM: the leaf certificate
    std::string key_file;   // PEM: its private key
};

class TestCa {
public:
    // `name` is the CA certificate's common name.
    explicit TestCa(std::string name = "Trunkline Test CA")
        : dir_("tl_net_ca"), name_(std::move(name)) {
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
            " -keyout " +
            path("ca.key") + " -out " + path("ca.pem") +
            " -days 2"
            " -subj '/CN=" +
            name_ +
            "'"
            " -addext basicConstraints=critical,CA:TRUE"
            " -addext keyUsage=critical,keyCertSign,cRLSign");
    }

    // The CA certificate (PEM), what a client trusts.
    std::string ca_file() const { return path("ca.pem"); }

    // A server certificate for `subject_alt_names` (OpenSSL syntax: "DNS:localhost,IP:127.0.0.1").
    ServerCert issue(const std::string& file_prefix, const std::string& subject_alt_names) {
        const std::string key = path(file_prefix + ".key");
        const std::string csr = path(file_prefix + ".csr");
        const std::string cert = path(file_prefix + ".pem");
        const std::string ext = path(file_prefix + ".ext");
        std::ofstream(ext) << "basicConstraints=CA:FALSE\n"
                              "keyUsage=critical,digitalSignature\n"
                              "extendedKeyUsage=serverAuth\n"
                              "subjectAltName="
                           << subject_alt_names << "\n";
        run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key +
            " -out " + csr + " -subj '/CN=" + file_prefix + "'");
        run("openssl x509 -req -in " + csr + " -CA " + path("ca.pem") + " -CAkey " +
            path("ca.key") + " -CAcreateserial -days 2 -extfile " + ext + " -out " + cert);
        return {cert, key};
    }

private:
    std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

    void run(const std::string& command) const {
        const std::string log = path("openssl.log");
        if (std::system((command + " >>" + log + " 2>&1").c_str()) != 0) {
            std::ifstream in(log);
            std::stringstream text;
            text << in.rdbuf();
            throw std::runtime_error("failed: " + command + "\n" + text.str());
        }
    }

    TempDir dir_;
    std::string name_;
};

}  // namespace tl::net::testing
