#include "arch/x86_64/cpuid.h"

#include <algorithm>
#include <bit>

namespace vmm::arch::x86_64 {

namespace {

constexpr uint32_t bit(unsigned n) { return 1u << n; }

// Leaf 1 ECX.
constexpr uint32_t LEAF1_ECX_FMA = bit(12);
constexpr uint32_t LEAF1_ECX_XSAVE = bit(26);
constexpr uint32_t LEAF1_ECX_OSXSAVE = bit(27);
constexpr uint32_t LEAF1_ECX_AVX = bit(28);
constexpr uint32_t LEAF1_ECX_F16C = bit(29);
constexpr uint32_t LEAF1_ECX_HYPERVISOR = bit(31);
constexpr uint32_t LEAF1_EDX_HTT = bit(28);

// Leaf 7 subleaf 0: AVX2 and every AVX-512 / AMX / VEX-encoded extension.
constexpr uint32_t LEAF7_EBX_AVX_FAMILY = bit(5) | bit(16) | bit(17) | bit(21) | bit(26) |
                                          bit(27) | bit(28) | bit(30) | bit(31);
constexpr uint32_t LEAF7_ECX_AVX_FAMILY =
    bit(1) | bit(6) | bit(9) | bit(10) | bit(11) | bit(12) | bit(14);
constexpr uint32_t LEAF7_EDX_AVX_FAMILY =
    bit(2) | bit(3) | bit(8) | bit(22) | bit(23) | bit(24) | bit(25);
constexpr uint32_t LEAF7_1_EAX_AVX_FAMILY = bit(4) | bit(5);
// Leaf 0x80000001 ECX: XOP, FMA4.
constexpr uint32_t EXT1_ECX_AVX_FAMILY = bit(11) | bit(16);

constexpr uint32_t LEAF_XSAVE = 0xd;

uint32_t bits_for(uint32_t count) {
    return count <= 1 ? 0 : static_cast<uint32_t>(std::bit_width(count - 1));
}

void set_topology_level(kvm_cpuid_entry2& entry, uint32_t apic_id, uint32_t vcpu_count) {
    // Intel SDM Vol. 2A, CPUID leaf 0BH: level 0 = SMT (1 thread), level 1 = core.
    entry.edx = apic_id;
    switch (entry.index) {
    case 0:
        entry.eax = 0;
        entry.ebx = 1;
        entry.ecx = (1u << 8) | entry.index;
        break;
    case 1:
        entry.eax = bits_for(vcpu_count);
        entry.ebx = vcpu_count;
        entry.ecx = (2u << 8) | entry.index;
        break;
    default:
        entry.eax = entry.ebx = 0;
        entry.ecx = entry.index;
        break;
    }
}

}  // namespace

kvm_cpuid_entry2* CpuidEntries::find(uint32_t function, uint32_t index) {
    for (auto& entry : entries) {
        if (entry.function != function)
            continue;
        if (!(entry.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || entry.index == index)
            return &entry;
    }
    return nullptr;
}

void apply_cpu_template(CpuidEntries& cpuid, CpuTemplate cpu_template) {
    if (cpu_template == CpuTemplate::Host)
        return;
    std::erase_if(cpuid.entries, [](const kvm_cpuid_entry2& e) { return e.function == LEAF_XSAVE; });
    for (auto& entry : cpuid.entries) {
        if (entry.function == 1) {
            entry.ecx &= ~(LEAF1_ECX_FMA | LEAF1_ECX_XSAVE | LEAF1_ECX_OSXSAVE | LEAF1_ECX_AVX |
                           LEAF1_ECX_F16C);
        } else if (entry.function == 7 && entry.index == 0) {
            entry.ebx &= ~LEAF7_EBX_AVX_FAMILY;
            entry.ecx &= ~LEAF7_ECX_AVX_FAMILY;
            entry.edx &= ~LEAF7_EDX_AVX_FAMILY;
        } else if (entry.function == 7 && entry.index == 1) {
            entry.eax &= ~LEAF7_1_EAX_AVX_FAMILY;
        } else if (entry.function == 0x80000001) {
            entry.ecx &= ~EXT1_ECX_AVX_FAMILY;
        }
    }
}

void set_vcpu_topology(CpuidEntries& cpuid, uint32_t apic_id, uint32_t vcpu_count) {
    for (auto& entry : cpuid.entries) {
        switch (entry.function) {
        case 1:
            entry.ebx = (entry.ebx & 0x0000ffffu) | (apic_id << 24) |
                        (std::min(vcpu_count, 255u) << 16);
            entry.ecx |= LEAF1_ECX_HYPERVISOR;
            entry.edx = vcpu_count > 1 ? (entry.edx | LEAF1_EDX_HTT) : (entry.edx & ~LEAF1_EDX_HTT);
            break;
        case 4: {
            // Deterministic cache parameters: cores per package, caches private except L3.
            const uint32_t level = (entry.eax >> 5) & 7;
            const uint32_t sharing = level == 3 ? vcpu_count - 1 : 0;
            entry.eax = (entry.eax & 0x3fffu) | ((vcpu_count - 1) << 26) | (sharing << 14);
            break;
        }
        case 0xb:
        case 0x1f:
            set_topology_level(entry, apic_id, vcpu_count);
            break;
        case 0x80000008:
            entry.ecx = (entry.ecx & ~0xf0ffu) | (vcpu_count - 1) | (bits_for(vcpu_count) << 12);
            break;
        default:
            break;
        }
    }
}

}  // namespace vmm::arch::x86_64
