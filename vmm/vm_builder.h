// Turns a validated VmConfig into a Vmm ready to run, one named step at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vmm/vm_config.h"
#include "vmm/vmm.h"

namespace vmm {

Result<std::unique_ptr<Vmm>> build_vmm(const VmConfig& config);

// The VM of a snapshot (snapshot.h): rebuilt from the configuration it holds, guest memory
// mapped privately from `memory_path`, every state put back; run it (paused or not) next.
// `base` gives the host side: serial output, KVM device, timeout.
// `overrides`: NICs (by id) put on another TAP than the snapshot names, as Firecracker's
// network_overrides.
using NetworkOverride = std::pair<std::string, std::string>;
// from_uffd_handler: `memory_path` is the socket of a page fault handler (Firecracker's Uffd
// backend, uffd_backend.h) that serves the pages instead.
Result<std::unique_ptr<Vmm>> restore_vmm(const std::string& state_path, const std::string& memory_path,
                                         const VmConfig& base, const std::vector<NetworkOverride>& overrides = {},
                                         bool from_uffd_handler = false);

// restore_vmm's steps, for a migration's receiver too: the configuration a state file holds
// (its CONF section, with `base`'s host side and the overrides), checked; zeroed RAM of the
// layout it names (MEML); the VM it describes, on `memory` with its RAM in place.
Result<VmConfig> restored_config(const StateFile& file, const VmConfig& base,
                                 const std::vector<NetworkOverride>& overrides = {});
Result<GuestMemory> fresh_memory_for(const StateFile& file, const VmConfig& config);
// `memory_handler`: fds the VM holds while it lives (VmParts::memory_handler).
Result<std::unique_ptr<Vmm>> assemble_restored(const StateFile& file, const VmConfig& config, GuestMemory memory,
                                               std::vector<UniqueFd> memory_handler = {});

// The receiving side of a live migration (migration.h, migration_receive.cpp): listens at
// `url`, takes one sender's VM and answers it; the VM, ready to run, or why it is not.
Result<std::unique_ptr<Vmm>> receive_migration(const std::string& url, const VmConfig& base);

}  // namespace vmm
