#include "vmm/machine_state.h"

#include <fmt/format.h>

namespace vmm {

Result<VcpuState> save_vcpu_state(const Vcpu& vcpu, const std::vector<uint32_t>& msr_indices) {
    // KVM_GET_MP_STATE first: it also settles pending APIC events into the state read next.
    VcpuState state{};
    state.mp_state = TRY(vcpu.get_mp_state());
    state.regs = TRY(vcpu.get_regs());
    state.sregs = TRY(vcpu.get_sregs());
    state.xsave = TRY(vcpu.get_xsave());
    state.xcrs = TRY(vcpu.get_xcrs());
    state.debugregs = TRY(vcpu.get_debugregs());
    state.lapic = TRY(vcpu.get_lapic());
    state.msrs = TRY(vcpu.get_msrs(msr_indices));
    state.events = TRY(vcpu.get_vcpu_events());
    return state;
}

Status restore_vcpu_state(Vcpu& vcpu, const VcpuState& state) {
    const std::string where = fmt::format("vCPU {} state", vcpu.id());
    TRY_CTX(vcpu.set_mp_state(state.mp_state), where);
    TRY_CTX(vcpu.set_regs(state.regs), where);
    TRY_CTX(vcpu.set_sregs(state.sregs), where);
    TRY_CTX(vcpu.set_xsave(state.xsave), where);
    TRY_CTX(vcpu.set_xcrs(state.xcrs), where);
    TRY_CTX(vcpu.set_debugregs(state.debugregs), where);
    TRY_CTX(vcpu.set_lapic(state.lapic), where);
    TRY_CTX(vcpu.set_msrs(state.msrs), where);
    TRY_CTX(vcpu.set_vcpu_events(state.events), where);
    return {};
}

Result<VmState> save_vm_state(const Vm& vm, bool has_pit) {
    VmState state{};
    const uint32_t chips[] = {KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC};
    for (size_t i = 0; i < state.irqchips.size(); ++i)
        state.irqchips[i] = TRY(vm.get_irqchip(chips[i]));
    if (has_pit)
        state.pit = TRY(vm.get_pit2());
    state.clock = TRY(vm.get_clock());
    return state;
}

Status restore_vm_state(Vm& vm, const VmState& state) {
    for (const auto& chip : state.irqchips)
        TRY_CTX(vm.set_irqchip(chip), "VM state");
    if (state.pit)
        TRY_CTX(vm.set_pit2(*state.pit), "VM state");
    TRY_CTX(vm.set_clock(state.clock), "VM state");
    return {};
}

}  // namespace vmm
