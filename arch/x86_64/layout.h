// Every guest physical address, port and IRQ number of the x86_64 machine, in one place.
// Devices and loaders take these as parameters; none carries a magic number of its own.
#pragma once

#include <cstdint>

namespace vmm::arch::x86_64::layout {

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

// Low memory used while booting (all below the EBDA, inside the first RAM region).
inline constexpr uint64_t GDT_ADDR = 0x500;
inline constexpr uint64_t IDT_ADDR = 0x520;
inline constexpr uint64_t PVH_INFO_ADDR = 0x6000;    // hvm_start_info, modlist, memmap
inline constexpr uint64_t ZERO_PAGE_ADDR = 0x7000;   // Linux boot_params
inline constexpr uint64_t BOOT_STACK_TOP = 0x8ff0;
inline constexpr uint64_t PML4_ADDR = 0x9000;
inline constexpr uint64_t PDPT_ADDR = 0xa000;
inline constexpr uint64_t PD_ADDR = 0xb000;          // one page: 512 x 2 MiB = 1 GiB mapped
inline constexpr uint64_t CMDLINE_ADDR = 0x20000;
inline constexpr uint64_t CMDLINE_MAX = 0x10000;     // bytes reserved, NUL included
inline constexpr uint64_t EBDA_START = 0x9fc00;      // MP table lives here
inline constexpr uint64_t MPTABLE_ADDR = EBDA_START;
inline constexpr uint64_t ACPI_START = 0xe0000;      // RSDP + tables; Linux scans 0xe0000..0xfffff
inline constexpr uint64_t RESET_VECTOR = 0xffff0;   // 0xf000:0xfff0, 16 bytes of reset stub
inline constexpr uint64_t ACPI_END = RESET_VECTOR;
inline constexpr uint64_t BIOS_END = 0x100000;
inline constexpr uint64_t KERNEL_LOAD_ADDR = 0x100000;  // bzImage protected-mode part

// 32-bit MMIO hole: no RAM in [MMIO_GAP_START, 4 GiB); RAM beyond it continues at 4 GiB.
inline constexpr uint64_t MMIO_GAP_START = 3 * GiB;
inline constexpr uint64_t MMIO_GAP_END = 4 * GiB;
inline constexpr uint64_t VIRTIO_MMIO_BASE = 0xd0000000;  // one 4 KiB window per device
inline constexpr uint64_t VIRTIO_MMIO_SIZE = 0x1000;
// PCIe (--transport pci): the host bridge's 32-bit BAR window below the virtio-mmio windows,
// ECAM for bus 0, and a 64-bit window above RAM (pci_mmio64_base).
inline constexpr uint64_t PCI_MMIO32_BASE = 0xc0000000;
inline constexpr uint64_t PCI_MMIO32_SIZE = 0x10000000;
inline constexpr uint64_t PCI_ECAM_BASE = 0xe0000000;
inline constexpr uint64_t PCI_ECAM_SIZE = 1 * MiB;  // bus 0: 32 devices x 8 functions x 4 KiB
inline constexpr uint64_t PCI_MMIO64_SIZE = 64 * GiB;
inline constexpr uint64_t IOAPIC_ADDR = 0xfec00000;
inline constexpr uint64_t LAPIC_ADDR = 0xfee00000;
inline constexpr uint64_t IDENTITY_MAP_ADDR = 0xfffbc000;  // KVM's EPT identity map (1 page)
inline constexpr uint64_t TSS_ADDR = 0xfffbd000;           // KVM's real-mode TSS (3 pages)

inline constexpr uint64_t MIN_MEMORY = 8 * MiB;

// Legacy I/O ports and the ISA IRQs they raise.
inline constexpr uint16_t COM1_PORT = 0x3f8;
inline constexpr uint16_t COM_PORT_COUNT = 8;
inline constexpr uint32_t COM1_IRQ = 4;
inline constexpr uint16_t I8042_DATA_PORT = 0x60;
inline constexpr uint16_t I8042_COMMAND_PORT = 0x64;
inline constexpr uint16_t CMOS_PORT = 0x70;
inline constexpr uint16_t POST_CODE_PORT = 0x80;
inline constexpr uint16_t CMOS_PORT_COUNT = 2;
inline constexpr uint16_t DEBUG_EXIT_PORT = 0xf4;  // QEMU isa-debug-exit, iosize=4
inline constexpr uint16_t DEBUG_EXIT_PORT_COUNT = 4;
inline constexpr uint32_t I8042_KEYBOARD_IRQ = 1;
inline constexpr uint32_t RTC_IRQ = 8;
// ACPI power device (hardware-reduced FADT): sleep control, sleep status, reset register.
inline constexpr uint16_t ACPI_PM_PORT = 0x600;
inline constexpr uint16_t ACPI_PM_PORT_COUNT = 3;
inline constexpr uint16_t ACPI_SLEEP_CONTROL_PORT = ACPI_PM_PORT;
inline constexpr uint16_t ACPI_SLEEP_STATUS_PORT = ACPI_PM_PORT + 1;
inline constexpr uint16_t ACPI_RESET_PORT = ACPI_PM_PORT + 2;
inline constexpr uint8_t ACPI_RESET_VALUE = 1;

inline constexpr uint32_t IOAPIC_PINS = 24;
inline constexpr uint32_t FIRST_MSI_GSI = IOAPIC_PINS;  // GSIs past the IOAPIC pins carry MSI routes
// IRQs for virtio-mmio devices, in order: every IOAPIC pin that no legacy device uses
// (0 PIT, 1 keyboard, 2 cascade, 3/4 serial, 8 RTC).
inline constexpr uint32_t VIRTIO_IRQS[] = {5, 6, 7, 9, 10, 11, 12, 13, 14, 15,
                                           16, 17, 18, 19, 20, 21, 22, 23};
inline constexpr uint64_t virtio_mmio_base(uint64_t slot) { return VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE; }
// The 64-bit BAR window: from 64 GiB, or the first GiB boundary above RAM when RAM reaches
// beyond that (RAM above the gap ends at mem_size + the gap's size).
inline constexpr uint64_t pci_mmio64_base(uint64_t mem_size) {
    const uint64_t ram_top = mem_size > MMIO_GAP_START ? mem_size + (MMIO_GAP_END - MMIO_GAP_START) : mem_size;
    const uint64_t above = (ram_top + GiB - 1) & ~(GiB - 1);
    return above > 64 * GiB ? above : 64 * GiB;
}
inline constexpr uint32_t MAX_VCPUS = 254;  // xAPIC IDs 0..253; 254 is the IOAPIC, 255 broadcast

}  // namespace vmm::arch::x86_64::layout
