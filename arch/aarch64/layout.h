// The arm64 machine's guest physical address map and interrupt numbers, all in one place.
// Below 1 GiB the devices sit where QEMU's `virt` machine puts its own (GIC at 128 MiB, the
// UART at 144 MiB, virtio-mmio from 160 MiB), so guests and tools that know that machine find
// nothing surprising; RAM starts at 2 GiB, as in Firecracker, and may grow to the end of the
// 40-bit IPA space KVM gives a VM by default.
#pragma once

#include <cstdint>

namespace vmm::arch::aarch64::layout {

// GICv3: distributor, then one redistributor (RD and SGI frames, 64 KiB each) per vCPU up to
// the UART. GICv2 (hosts without a GICv3): distributor and CPU interface.
inline constexpr uint64_t GIC_DIST_BASE = 0x0800'0000;
inline constexpr uint64_t GIC_DIST_SIZE = 0x1'0000;
inline constexpr uint64_t GIC_CPU_BASE = 0x0801'0000;  // GICv2 only
inline constexpr uint64_t GIC_CPU_SIZE = 0x2000;
inline constexpr uint64_t GIC_REDIST_BASE = 0x080a'0000;
inline constexpr uint64_t GIC_REDIST_STRIDE = 0x2'0000;
inline constexpr uint64_t GIC_REDIST_END = 0x0900'0000;

// The UART: a 16550A on MMIO, one byte per register (reg-shift 0), "ns16550a" in the DT.
inline constexpr uint64_t UART_BASE = 0x0900'0000;
inline constexpr uint64_t UART_SIZE = 0x1000;
inline constexpr uint32_t UART_CLOCK_HZ = 1'843'200;

// QEMU's isa-debug-exit at an MMIO address (only with --debug-exit): a guest write of v ends
// Ember with (v << 1) | 1.
inline constexpr uint64_t DEBUG_EXIT_BASE = 0x0902'0000;
inline constexpr uint64_t DEBUG_EXIT_SIZE = 0x1000;

// virtio-mmio windows, 4 KiB each, in the order devices are attached.
inline constexpr uint64_t VIRTIO_MMIO_BASE = 0x0a00'0000;
inline constexpr uint64_t VIRTIO_MMIO_SIZE = 0x1000;

inline constexpr uint64_t RAM_BASE = 0x8000'0000;
inline constexpr uint64_t IPA_LIMIT = 1ull << 40;  // KVM's default IPA size (KVM_CREATE_VM type 0)
inline constexpr uint64_t MAX_RAM = IPA_LIMIT - RAM_BASE;

// Shared peripheral interrupts (SPI numbers: INTID - 32; KVM's irqchip routes GSI n to SPI n),
// virtio devices' in the order they are attached.
inline constexpr uint32_t UART_SPI = 1;
inline constexpr uint32_t VIRTIO_IRQS[] = {16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                           32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47};
inline constexpr uint32_t SPI_COUNT = 64;  // the distributor's lines: KVM_DEV_ARM_VGIC_GRP_NR_IRQS is 32 + this
inline constexpr uint32_t SPI_INTID_BASE = 32;
inline constexpr uint32_t FIRST_MSI_GSI = SPI_COUNT;  // GSIs past the SPIs carry MSI routes

// The architected timer's private interrupts (PPI numbers: INTID - 16), as the DT names them.
inline constexpr uint32_t TIMER_PPI_SECURE = 13;
inline constexpr uint32_t TIMER_PPI_NONSECURE = 14;
inline constexpr uint32_t TIMER_PPI_VIRTUAL = 11;
inline constexpr uint32_t TIMER_PPI_HYP = 10;

inline constexpr uint32_t MAX_VCPUS = (GIC_REDIST_END - GIC_REDIST_BASE) / GIC_REDIST_STRIDE;  // 123
inline constexpr uint64_t MIN_MEMORY = 8ull << 20;

// Where the boot pieces go in RAM: the kernel at RAM_BASE + its text_offset (a 2 MiB aligned
// base, booting.rst), the device tree in the last 2 MiB block (its own block, at most 2 MiB),
// the initramfs page-aligned just below it.
inline constexpr uint64_t KERNEL_ALIGN = 2ull << 20;
inline constexpr uint64_t FDT_MAX_SIZE = 2ull << 20;

}  // namespace vmm::arch::aarch64::layout
