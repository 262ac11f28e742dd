#pragma once
// The operator's diagnosis commands, run beside a live server on the same data directory
// (SQLite allows the concurrent reads):
//   trunkline calls sip <call-id> [--format ladder|json|pcap]  a finished call's SIP capture
//   trunkline trunk test <trunk-id> [--json]                    the trunk doctor (exit 1: fail)
//   trunkline assistants check <id> [--json]                    a real request to each provider
//                                                               (exit 1: one failed)

#include <string>

namespace tl::app {

int calls_sip(const std::string& data_dir, const std::string& call_id, const std::string& format);
int trunk_test(const std::string& data_dir, const std::string& trunk_id, bool json);
// Keys come from the organization's BYOK store, else this process's TRUNKLINE_<PROVIDER>_API_KEY
// (which may differ from the server's environment).
int assistant_check(const std::string& data_dir, const std::string& assistant_id, bool json);

// Where `serve` records the SIP endpoint it announces, so that `trunk test` can tell carriers
// where to send calls without asking the server.
std::string sip_endpoint_file(const std::string& data_dir);

}  // namespace tl::app
