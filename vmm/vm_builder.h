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
Result<std::unique_ptr<Vmm>> restore_vmm(const std::string& state_path, const std::string& memory_path,
                                         const VmConfig& base, const std::vector<NetworkOverride>& overrides = {});

}  // namespace vmm
