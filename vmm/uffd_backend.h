// Firecracker's Uffd memory backend for snapshot loads: guest RAM is fresh anonymous memory
// registered with a userfaultfd, which is handed, with the layout of RAM, to a page fault
// handler process listening on a UNIX socket. The handler serves each first touch of a page
// (UFFDIO_COPY from the snapshot's memory file, or whatever it chooses), so it decides how
// memory loads: on demand, prefetched, from the network.
//
// The message is Firecracker's: one sendmsg() whose data is a JSON array of the regions,
// {"base_host_virt_addr", "size", "offset" (in the memory file), "page_size" (bytes) and the
// older "page_size_kib" (also bytes, as Firecracker sends it)}, with the userfaultfd attached
// (SCM_RIGHTS). Nothing else passes on the socket.
#pragma once

#include <string>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

// The JSON the handler receives for `memory`'s regions.
std::string uffd_mappings_json(const GuestMemory& memory);

// Registers all of `memory` (untouched anonymous memory) with a new userfaultfd and sends it
// to the handler at `socket_path`. Errors name the step: no userfaultfd for this process (it
// needs root or /dev/userfaultfd: KVM's faults come from the kernel), no handler listening.
// Returns the userfaultfd and the socket, to be held while the memory lives.
Result<std::vector<UniqueFd>> hand_memory_to_uffd_handler(const GuestMemory& memory, const std::string& socket_path);

}  // namespace vmm
