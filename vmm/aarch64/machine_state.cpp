// Snapshots and migration of arm64 VMs are not written yet (the vCPUs' registers through
// KVM_GET_REG_LIST, the vGIC's state through its device attributes): every request for the
// machine's state is refused with one line saying so, before anything is written.
#include "vmm/machine_state.h"
#include "vmm/machine_state_codec.h"

namespace vmm {

namespace {

Error not_supported() {
    return Error(ErrorKind::InvalidInput, "snapshots and migration of arm64 VMs are not supported yet");
}

}  // namespace

Result<VcpuState> save_vcpu_state(const Vcpu&, const std::vector<uint32_t>&) { return not_supported(); }
Status restore_vcpu_state(Vcpu&, const VcpuState&) { return not_supported(); }
Result<VmState> save_vm_state(const Vm&, bool) { return not_supported(); }
Status restore_vm_state(Vm&, const VmState&) { return not_supported(); }

void encode_machine_state(const MachineState&, StateFile&) {}
Result<MachineState> decode_machine_state(const StateFile&, uint32_t) { return not_supported(); }

}  // namespace vmm
