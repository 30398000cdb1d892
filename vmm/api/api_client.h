// The client side of Ember's API for the command line's one-shot commands (--snapshot-create,
// --migrate-to): one HTTP/1.1 request over the running Ember's API socket, its status and body.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vmm::api {

struct ClientReply {
    int status = 0;
    std::string body;
};

// Sends METHOD PATH with a JSON body (may be empty), reads the whole reply (the server closes).
Result<ClientReply> api_request(const std::string& socket_path, std::string_view method, std::string_view path,
                                std::string_view body = {});

// What a failed reply says: its fault_message, else its status.
std::string fault_of(const ClientReply& reply);

// The one-shot commands; each returns Ember's exit status (0, or one error line and non-zero).
// snapshot: "snapshot=PATH,memory=PATH[,type=full|diff]": pauses a running VM, writes the
// snapshot, resumes it (a VM that was paused stays so).
int snapshot_command(const std::string& socket_path, std::string_view spec);
// migrate: PUT /migrate to `url`; the VM then runs at the receiver.
int migrate_command(const std::string& socket_path, const std::string& url);

}  // namespace vmm::api
