#include "vmm/vcpu_fault.h"

#include <cstddef>

#include <fmt/format.h>

namespace vmm {

namespace {

// A core register's KVM id: its offset in struct kvm_regs in 32-bit words (asm/kvm.h).
constexpr uint64_t core_reg(size_t offset) {
    return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}

}  // namespace

std::string fault_location(const Vcpu& vcpu) {
    auto pc = vcpu.get_one_reg(core_reg(offsetof(kvm_regs, regs.pc)));
    auto pstate = vcpu.get_one_reg(core_reg(offsetof(kvm_regs, regs.pstate)));
    if (!pc.ok() || !pstate.ok())
        return {};
    return fmt::format(" at PC {:#x}, PSTATE {:#x}", *pc, *pstate);
}

std::string internal_error_context(const Vcpu& vcpu, const kvm_run&, const GuestMemory&) { return fault_location(vcpu); }

}  // namespace vmm
