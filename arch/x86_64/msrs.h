// Model-specific registers every vCPU starts with.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmm::arch::x86_64 {

// SYSCALL/SYSENTER MSRs zeroed, fast strings on, MTRRs enabled with write-back default, TSC
// at 0. Entries whose index KVM does not list (supported) are left out.
std::vector<kvm_msr_entry> boot_msrs(const std::vector<uint32_t>& supported);

}  // namespace vmm::arch::x86_64
