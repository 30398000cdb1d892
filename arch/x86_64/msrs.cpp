#include "arch/x86_64/msrs.h"

#include <algorithm>
#include <utility>

namespace vmm::arch::x86_64 {

namespace {

constexpr uint32_t MSR_IA32_SYSENTER_CS = 0x174;
constexpr uint32_t MSR_IA32_SYSENTER_ESP = 0x175;
constexpr uint32_t MSR_IA32_SYSENTER_EIP = 0x176;
constexpr uint32_t MSR_IA32_TSC = 0x10;
constexpr uint32_t MSR_IA32_MISC_ENABLE = 0x1a0;
constexpr uint32_t MSR_MTRR_DEF_TYPE = 0x2ff;
constexpr uint32_t MSR_STAR = 0xc0000081;
constexpr uint32_t MSR_LSTAR = 0xc0000082;
constexpr uint32_t MSR_CSTAR = 0xc0000083;
constexpr uint32_t MSR_SYSCALL_MASK = 0xc0000084;
constexpr uint32_t MSR_KERNEL_GS_BASE = 0xc0000102;

constexpr uint64_t MISC_ENABLE_FAST_STRING = 1;
constexpr uint64_t MTRR_ENABLE = 1u << 11;
constexpr uint64_t MTRR_TYPE_WRBACK = 6;

}  // namespace

std::vector<kvm_msr_entry> boot_msrs(const std::vector<uint32_t>& supported, bool mtrr) {
    const std::pair<uint32_t, uint64_t> wanted[] = {
        {MSR_IA32_SYSENTER_CS, 0},    {MSR_IA32_SYSENTER_ESP, 0},
        {MSR_IA32_SYSENTER_EIP, 0},   {MSR_STAR, 0},
        {MSR_CSTAR, 0},               {MSR_KERNEL_GS_BASE, 0},
        {MSR_SYSCALL_MASK, 0},        {MSR_LSTAR, 0},
        {MSR_IA32_TSC, 0},            {MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING},
    };
    std::vector<kvm_msr_entry> msrs;
    auto add = [&msrs](uint32_t index, uint64_t value) {
        kvm_msr_entry entry{};
        entry.index = index;
        entry.data = value;
        msrs.push_back(entry);
    };
    for (const auto& [index, value] : wanted)
        if (std::find(supported.begin(), supported.end(), index) != supported.end())
            add(index, value);
    if (mtrr)
        add(MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRBACK);
    return msrs;
}

}  // namespace vmm::arch::x86_64
