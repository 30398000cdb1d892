// The layout of the machine this Ember was built for, under the names the architecture-neutral
// code uses (VIRTIO_MMIO_BASE, VIRTIO_MMIO_SIZE, VIRTIO_IRQS, MAX_VCPUS, MIN_MEMORY,
// FIRST_MSI_GSI): arch/x86_64/layout.h or arch/aarch64/layout.h.
#pragma once

#if defined(__x86_64__)
#include "arch/x86_64/layout.h"
namespace vmm {
namespace host_layout = arch::x86_64::layout;
}
#elif defined(__aarch64__)
#include "arch/aarch64/layout.h"
namespace vmm {
namespace host_layout = arch::aarch64::layout;
}
#else
#error "Ember runs guests on x86_64 and aarch64 hosts"
#endif
