// Constants of the VIRTIO 1.2 specification shared by the transport and the devices.
#pragma once

#include <cstdint>

namespace vmm::virtio {

// §2.1 Device status field.
namespace status {
inline constexpr uint32_t ACKNOWLEDGE = 1;
inline constexpr uint32_t DRIVER = 2;
inline constexpr uint32_t DRIVER_OK = 4;
inline constexpr uint32_t FEATURES_OK = 8;
inline constexpr uint32_t DEVICE_NEEDS_RESET = 64;
inline constexpr uint32_t FAILED = 128;
}  // namespace status

// §6 Reserved feature bits (device-independent).
namespace feature {
inline constexpr uint64_t RING_INDIRECT_DESC = 1ull << 28;
inline constexpr uint64_t RING_EVENT_IDX = 1ull << 29;
inline constexpr uint64_t VERSION_1 = 1ull << 32;
}  // namespace feature

// §5 Device IDs.
namespace device_id {
inline constexpr uint32_t NET = 1;
inline constexpr uint32_t BLOCK = 2;
inline constexpr uint32_t CONSOLE = 3;
inline constexpr uint32_t ENTROPY = 4;
inline constexpr uint32_t VSOCK = 19;
inline constexpr uint32_t FS = 26;
}  // namespace device_id

// §4.2.2 MMIO interrupt status bits.
inline constexpr uint32_t INTERRUPT_USED_BUFFER = 1;
inline constexpr uint32_t INTERRUPT_CONFIG_CHANGE = 2;

}  // namespace vmm::virtio
