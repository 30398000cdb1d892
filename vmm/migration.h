// Live migration between two Embers over one stream socket (UNIX or TCP). The sender speaks
// first; each message is a header {u32 type, u32 zero, u64 length} and `length` bytes:
//   Hello   a state file with the VM's configuration and memory layout alone: the receiver
//           checks them and creates its (zeroed) RAM
//   Pages   u64 offset into RAM (the regions one after another, as in a memory file), then
//           whole 4 KiB pages; sent in rounds while the VM runs, the last round paused
//   State   the paused VM's state file (a snapshot's, snapshot.h)
//   End     nothing more
// and the receiver answers one Result: a zero byte once the VM is built there and about to
// run (the sender then stops with exit_status::MIGRATED), or a non-zero byte and the reason.
// Everything read is checked: a message's type, length and page range, the state file whole.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

struct MigrationUrl {
    enum class Kind { Unix, Tcp };
    Kind kind;
    std::string path;  // Unix
    std::string host;  // Tcp: a numeric IPv4 or IPv6 address, or "localhost"
    uint16_t port = 0;
    std::string text;  // as given, for messages
};

// "unix:PATH" or "tcp:HOST:PORT" ("tcp:[::1]:PORT" for IPv6).
Result<MigrationUrl> parse_migration_url(std::string_view text);

// The sender's side: connected to the receiver listening at `url`.
Result<UniqueFd> connect_migration(const MigrationUrl& url);
// The receiver's side: listens at `url`, accepts one sender; a UNIX socket's path is removed
// once the sender is in.
Result<UniqueFd> accept_migration(const MigrationUrl& url);

enum class MigrationMessage : uint32_t { Hello = 1, Pages = 2, State = 3, End = 4, Result = 5 };

// One message whose payload is `head` then `body`.
Status send_message(int fd, MigrationMessage type, std::span<const uint8_t> head = {},
                    std::span<const uint8_t> body = {});

struct ReceivedMessage {
    MigrationMessage type;
    std::vector<uint8_t> payload;
};
// The next message; a type Ember does not know, or a payload over `max_payload`, is an error
// (before anything is allocated for it).
Result<ReceivedMessage> receive_message(int fd, uint64_t max_payload);

// The longest Pages message: its offset and 256 pages (1 MiB).
inline constexpr uint64_t MIGRATION_PAGES_PER_MESSAGE = 256;

}  // namespace vmm
