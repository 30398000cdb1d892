// A snapshot is two files: the state file (base/state_file.h: the VM's configuration, memory
// layout, KVM's vCPU and VM state, the platform devices' and each virtio transport's state)
// and the memory file (guest RAM, regions one after another as in the layout, written sparse:
// pages of zeros are holes). Restoring maps the memory file MAP_PRIVATE, so pages load as
// the guest touches them and the file is never written.
//
// This version snapshots VMs with block, network and entropy devices: disks are reopened by
// path on restore, NICs' TAPs by name (network_overrides may rename them), each NIC keeping its
// MAC address. A VM with a virtio console, virtio-fs or vsock is refused with a line naming
// the device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"
#include "base/state_file.h"
#include "base/unique_fd.h"
#include "vmm/dirty_pages.h"
#include "vmm/vm_config.h"

namespace vmm {

inline constexpr uint32_t CONFIG_TAG = state_tag("CONF");
inline constexpr uint32_t MEMORY_LAYOUT_TAG = state_tag("MEML");
inline constexpr uint32_t VIRTIO_TAG = state_tag("VIRT");
// The largest state file Ember reads (vCPU state is ~12 KiB each; everything else is small).
inline constexpr uint64_t MAX_STATE_FILE = 64ull << 20;
// The most a device's own state may take (virtio-net: a waiting frame per queue pair).
inline constexpr uint32_t MAX_DEVICE_STATE = 8u << 20;

// Why `config` cannot be snapshotted yet; ok when it can.
Status check_snapshottable(const VmConfig& config);

// The configuration a restore rebuilds the VM from: machine and devices come from the
// snapshot, the host side of the process (serial and console output, KVM device, timeout,
// seccomp, whether dirty pages are tracked) from `base`, the restoring process's own options.
void encode_config(const VmConfig& config, StateEncoder& out);
Result<VmConfig> decode_config(StateDecoder& in, const VmConfig& base);

void encode_memory_layout(const GuestMemory& memory, StateEncoder& out);
// The layout must be the one `expected` (the restored config's) has: a crafted file cannot
// choose where RAM goes.
Status check_memory_layout(StateDecoder& in, const std::vector<MemoryRegionSpec>& expected);

// Guest RAM into `path` (a new file renamed over any old one): every region at its offset,
// zero pages left as holes. With `only` (a diff snapshot), just those pages, each written
// even when zero, the rest holes: ember-rebase-snap copies a diff's data onto its base.
Status write_memory_file(const GuestMemory& memory, const std::string& path, const DirtyPages* only = nullptr);

// A snapshot's file opened read-only, with its size; `what` names it in errors.
struct SnapshotFile {
    UniqueFd fd;
    uint64_t size;
};
Result<SnapshotFile> open_snapshot_file(const std::string& path, const std::string& what);

Status write_state_file(const StateFile& file, const std::string& path);
Result<StateFile> read_state_file(const std::string& path);

}  // namespace vmm
