// CPUID the guest sees: KVM's supported set, filtered by a named template, with per-vCPU
// APIC ID and topology leaves.
#pragma once

#include "arch/cpu_template.h"

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vmm::arch::x86_64 {

struct CpuidEntries {
    std::vector<kvm_cpuid_entry2> entries;
    kvm_cpuid_entry2* find(uint32_t function, uint32_t index = 0);
};

using arch::CpuTemplate;
using arch::parse_cpu_template;

// Template filtering, applied once to the supported set.
void apply_cpu_template(CpuidEntries& cpuid, CpuTemplate cpu_template);

// Per-vCPU: APIC ID, one package of vcpu_count cores with one thread each, hypervisor bit.
void set_vcpu_topology(CpuidEntries& cpuid, uint32_t apic_id, uint32_t vcpu_count);

}  // namespace vmm::arch::x86_64
