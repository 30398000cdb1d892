// Intel MultiProcessor Specification 1.4 tables: how the guest learns its CPUs (one processor
// entry per vCPU, APIC ID = vCPU index), the IOAPIC and the ISA interrupt wiring.
#pragma once

#include <cstdint>

#include "base/guest_memory.h"

namespace vmm::arch::x86_64 {

// Writes the floating pointer at layout::MPTABLE_ADDR followed by the configuration table.
// Returns the number of bytes written.
Result<uint64_t> write_mptable(GuestMemory& memory, uint32_t vcpu_count);

}  // namespace vmm::arch::x86_64
