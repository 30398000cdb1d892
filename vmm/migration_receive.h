// The receiving side of a live migration (migration.h), up to the VM's parts: the
// configuration the sender announced, guest RAM with every page it sent, and the state file.
// Everything read is checked here; what a hostile sender can reach (tests/fuzz).
#pragma once

#include <cstdint>

#include "base/guest_memory.h"
#include "base/result.h"
#include "base/state_file.h"
#include "vmm/vm_config.h"

namespace vmm {

struct IncomingVm {
    VmConfig config;
    GuestMemory memory;
    StateFile state;
    uint64_t pages = 0;  // received
};

// Reads the sender's messages from `fd` up to End; `base` gives the host side (restored_config).
Result<IncomingVm> receive_incoming(int fd, const VmConfig& base);

}  // namespace vmm
