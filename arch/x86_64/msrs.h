// Model-specific registers every vCPU starts with.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace vmm::arch::x86_64 {

// SYSCALL/SYSENTER MSRs zeroed, fast strings on, TSC at 0; entries whose index KVM does not
// list (supported) are left out. With `mtrr` (CPUID.1:EDX.MTRR), MTRRs enabled with a
// write-back default type, as firmware leaves them: KVM emulates MSR_MTRRdefType for such a
// vCPU but does not list it, and without it Linux disables its PAT.
std::vector<kvm_msr_entry> boot_msrs(const std::vector<uint32_t>& supported, bool mtrr);

}  // namespace vmm::arch::x86_64
