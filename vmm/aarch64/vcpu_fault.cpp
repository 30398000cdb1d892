#include "vmm/vcpu_fault.h"

#include <fmt/format.h>

#include "vmm/aarch64/core_regs.h"

namespace vmm {

std::string fault_location(const Vcpu& vcpu) {
    auto pc = vcpu.get_one_reg(arm64_regs::PC);
    auto pstate = vcpu.get_one_reg(arm64_regs::PSTATE);
    if (!pc.ok() || !pstate.ok())
        return {};
    return fmt::format(" at PC {:#x}, PSTATE {:#x}", *pc, *pstate);
}

std::string internal_error_context(const Vcpu& vcpu, const kvm_run&, const GuestMemory&) { return fault_location(vcpu); }

}  // namespace vmm
