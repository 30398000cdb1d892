#include "vmm/machine_state_codec.h"

namespace vmm {

namespace {

void encode_vcpu(const VcpuState& vcpu, StateEncoder& out) {
    out.put(vcpu.mp_state);
    out.put(vcpu.regs);
    out.put(vcpu.sregs);
    out.put(vcpu.xsave);
    out.put(vcpu.xcrs);
    out.put(vcpu.debugregs);
    out.put(vcpu.lapic);
    out.put(static_cast<uint32_t>(vcpu.msrs.size()));
    for (const auto& msr : vcpu.msrs)
        out.put(msr);
    out.put(vcpu.events);
}

Result<VcpuState> decode_vcpu(StateDecoder& in) {
    VcpuState vcpu{};
    vcpu.mp_state = TRY(in.get<kvm_mp_state>());
    vcpu.regs = TRY(in.get<kvm_regs>());
    vcpu.sregs = TRY(in.get<kvm_sregs>());
    vcpu.xsave = TRY(in.get<XsaveArea>());
    vcpu.xcrs = TRY(in.get<kvm_xcrs>());
    vcpu.debugregs = TRY(in.get<kvm_debugregs>());
    vcpu.lapic = TRY(in.get<kvm_lapic_state>());
    const uint32_t msrs = TRY(in.get_count(MAX_SAVED_MSRS, "MSRs"));
    vcpu.msrs.reserve(msrs);
    for (uint32_t i = 0; i < msrs; ++i)
        vcpu.msrs.push_back(TRY(in.get<kvm_msr_entry>()));
    vcpu.events = TRY(in.get<kvm_vcpu_events>());
    return vcpu;
}

}  // namespace

void encode_machine_state(const MachineState& state, StateFile& file) {
    StateEncoder vm;
    for (const auto& chip : state.vm.irqchips)
        vm.put(chip);
    vm.put(static_cast<uint8_t>(state.vm.pit.has_value()));
    if (state.vm.pit)
        vm.put(*state.vm.pit);
    vm.put(state.vm.clock);
    file.add(VM_STATE_TAG, vm.take());

    StateEncoder vcpus;
    vcpus.put(static_cast<uint32_t>(state.vcpus.size()));
    for (const auto& vcpu : state.vcpus)
        encode_vcpu(vcpu, vcpus);
    file.add(VCPU_STATE_TAG, vcpus.take());
}

Result<MachineState> decode_machine_state(const StateFile& file, uint32_t max_vcpus) {
    MachineState state{};
    StateDecoder vm(TRY(file.section(VM_STATE_TAG)), "the snapshot's VM state");
    for (auto& chip : state.vm.irqchips)
        chip = TRY(vm.get<kvm_irqchip>());
    if (TRY(vm.get_bool("the PIT flag")))
        state.vm.pit = TRY(vm.get<kvm_pit_state2>());
    state.vm.clock = TRY(vm.get<kvm_clock_data>());
    TRY(vm.finish());

    StateDecoder vcpus(TRY(file.section(VCPU_STATE_TAG)), "the snapshot's vCPU state");
    const uint32_t count = TRY(vcpus.get_count(max_vcpus, "vCPUs"));
    if (count == 0)
        return Error(vcpus.what() + ": no vCPUs");
    for (uint32_t i = 0; i < count; ++i)
        state.vcpus.push_back(TRY(decode_vcpu(vcpus)));
    TRY(vcpus.finish());
    return state;
}

}  // namespace vmm
