// What a virtio device keeps beyond its transport, as the bytes of its entry in a snapshot's
// VIRT section: virtio-net's active queue pairs and waiting frames, virtio-console's
// undelivered input and transmit progress; nothing for block, entropy and vsock devices (a
// restored vsock device announces a transport reset: its connections' host side is gone). Saving and
// restoring side by side, so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "vmm/device_manager.h"

namespace vmm {

Result<std::vector<uint8_t>> save_device_state(const VirtioSlot& slot);
// After the transport's restore, which activated the device with the saved features.
Status restore_device_state(const VirtioSlot& slot, const std::vector<uint8_t>& bytes);

}  // namespace vmm
