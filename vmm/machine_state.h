// Everything KVM holds of a VM beyond guest memory and the devices: per vCPU its registers,
// FPU/XSAVE and XCRs, debug registers, local APIC, MSRs (the whole save list), pending
// events and MP state; per VM the PICs and IOAPIC, the PIT and the kvmclock. Read and
// written with every vCPU parked (a paused VM): the same VM, or later a restored one.
#pragma once

#include <linux/kvm.h>

#include <array>
#include <optional>
#include <vector>

#include "base/result.h"
#include "vmm/kvm.h"

namespace vmm {

#if defined(__x86_64__)
struct VcpuState {
    kvm_mp_state mp_state;
    kvm_regs regs;
    kvm_sregs sregs;
    XsaveArea xsave;
    kvm_xcrs xcrs;
    kvm_debugregs debugregs;
    kvm_lapic_state lapic;
    std::vector<kvm_msr_entry> msrs;
    kvm_vcpu_events events;
};

struct VmState {
    std::array<kvm_irqchip, 3> irqchips;  // PIC master, PIC slave, IOAPIC
    std::optional<kvm_pit_state2> pit;    // when the VM has a PIT
    kvm_clock_data clock;
};
#elif defined(__aarch64__)
// Snapshots of arm64 VMs are not written yet: save and restore refuse (aarch64/machine_state.cpp).
struct VcpuState {};
struct VmState {};
#endif

struct MachineState {
    VmState vm;
    std::vector<VcpuState> vcpus;
};

// `msr_indices`: the MSRs to save (KVM_GET_MSR_INDEX_LIST).
Result<VcpuState> save_vcpu_state(const Vcpu& vcpu, const std::vector<uint32_t>& msr_indices);
// In the order KVM needs: MP state, registers, FPU, XCRs, debug registers, LAPIC, MSRs, and
// the pending events last.
Status restore_vcpu_state(Vcpu& vcpu, const VcpuState& state);

Result<VmState> save_vm_state(const Vm& vm, bool has_pit);
Status restore_vm_state(Vm& vm, const VmState& state);

}  // namespace vmm
