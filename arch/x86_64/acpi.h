// Minimal ACPI (6.5) tables: RSDP -> XSDT -> FADT (hardware-reduced, with sleep and reset
// registers) -> DSDT (every device, _S5_), and the MADT.
// Kernels built without MP-table support (Debian's cloud kernel, for one) find their CPUs
// only through the MADT.
#pragma once

#include <cstdint>

#include "arch/x86_64/dsdt.h"
#include "base/guest_memory.h"

namespace vmm::arch::x86_64 {

// Writes the tables from layout::ACPI_START; returns the RSDP's guest address.
Result<uint64_t> write_acpi_tables(GuestMemory& memory, uint32_t vcpu_count, const AcpiDevices& devices);

}  // namespace vmm::arch::x86_64
