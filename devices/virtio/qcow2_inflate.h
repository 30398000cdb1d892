// A qcow2 compressed cluster inflated (raw deflate, 4 KiB window: QEMU's zlib type). Built
// without zlib (the portable build), it reports that it cannot.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"

namespace vmm::virtio::qcow2 {

// Fills `cluster` exactly from `compressed` (which may hold trailing bytes), or fails.
Status inflate_cluster(std::span<const uint8_t> compressed, std::span<uint8_t> cluster);

}  // namespace vmm::virtio::qcow2
