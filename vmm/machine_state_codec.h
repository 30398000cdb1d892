// MachineState (machine_state.h) in a snapshot's state file: section "VMST" holds the VM's
// irqchips, PIT and clock, section "VCPU" every vCPU's state. KVM's own structs are written
// as the kernel's UAPI lays them out (a stable ABI); counts are checked on the way back in,
// the values by KVM when they are restored.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "base/state_file.h"
#include "vmm/machine_state.h"

namespace vmm {

inline constexpr uint32_t VM_STATE_TAG = state_tag("VMST");
inline constexpr uint32_t VCPU_STATE_TAG = state_tag("VCPU");
// More MSRs than any KVM saves per vCPU (KVM_GET_MSR_INDEX_LIST has a few hundred).
inline constexpr uint32_t MAX_SAVED_MSRS = 1024;

void encode_machine_state(const MachineState& state, StateFile& file);
// `max_vcpus`: what this host's KVM and Ember allow.
Result<MachineState> decode_machine_state(const StateFile& file, uint32_t max_vcpus);

}  // namespace vmm
