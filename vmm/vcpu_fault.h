// What the message of a fatal vCPU exit says about where the guest was, per architecture
// (x86_64/vcpu_fault.cpp: RIP, paging state, instruction bytes; aarch64/vcpu_fault.cpp: PC).
#pragma once

#include <linux/kvm.h>

#include <string>

#include "base/guest_memory.h"
#include "vmm/kvm.h"

namespace vmm {

// " at RIP ..." and the paging state (x86), " at PC ..." (arm64); empty when unreadable.
std::string fault_location(const Vcpu& vcpu);

// For KVM_EXIT_INTERNAL_ERROR: where, and the instruction's bytes where they can be had.
std::string internal_error_context(const Vcpu& vcpu, const kvm_run& run, const GuestMemory& memory);

}  // namespace vmm
