#include "arch/x86_64/cpuid.h"

#include <gtest/gtest.h>

namespace vmm::arch::x86_64 {
namespace {

kvm_cpuid_entry2 entry(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                       uint32_t edx, bool indexed = false) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    return e;
}

CpuidEntries sample() {
    CpuidEntries c;
    c.entries = {entry(1, 0, 0x906ea, 0x00010800, 0xffffffff, 0xffffffff),
                 entry(7, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, true),
                 entry(0xb, 0, 0, 0, 0, 0, true), entry(0xb, 1, 0, 0, 0, 0, true),
                 entry(0xd, 0, 0x7, 0, 0, 0, true), entry(0x80000001, 0, 0, 0, 0xffffffff, 0)};
    return c;
}

TEST(Cpuid, ParsesTemplateNames) {
    EXPECT_EQ(parse_cpu_template("host"), CpuTemplate::Host);
    EXPECT_EQ(parse_cpu_template("baseline"), CpuTemplate::Baseline);
    EXPECT_FALSE(parse_cpu_template("T2").has_value());
}

TEST(Cpuid, HostTemplateKeepsEverything) {
    auto c = sample();
    apply_cpu_template(c, CpuTemplate::Host);
    EXPECT_EQ(c.find(1)->ecx, 0xffffffffu);
    EXPECT_NE(c.find(0xd), nullptr);
}

TEST(Cpuid, BaselineRemovesAvxAndXsaveFamilies) {
    auto c = sample();
    apply_cpu_template(c, CpuTemplate::Baseline);
    const uint32_t ecx1 = c.find(1)->ecx;
    EXPECT_FALSE(ecx1 & (1u << 28));  // AVX
    EXPECT_FALSE(ecx1 & (1u << 26));  // XSAVE
    EXPECT_FALSE(ecx1 & (1u << 12));  // FMA
    EXPECT_TRUE(ecx1 & (1u << 20));   // SSE4.2 stays (x86-64-v2)
    EXPECT_TRUE(ecx1 & (1u << 23));   // POPCNT stays
    EXPECT_FALSE(c.find(7)->ebx & (1u << 5));   // AVX2
    EXPECT_FALSE(c.find(7)->ebx & (1u << 16));  // AVX-512F
    EXPECT_EQ(c.find(0xd), nullptr);
}

TEST(Cpuid, TopologySetsApicIdAndCounts) {
    auto c = sample();
    set_vcpu_topology(c, 3, 4);
    EXPECT_EQ(c.find(1)->ebx >> 24, 3u);
    EXPECT_EQ((c.find(1)->ebx >> 16) & 0xff, 4u);
    EXPECT_TRUE(c.find(1)->ecx & (1u << 31));  // hypervisor
    EXPECT_TRUE(c.find(1)->edx & (1u << 28));  // HTT with more than one CPU
    EXPECT_EQ(c.find(0xb, 1)->edx, 3u);
    EXPECT_EQ(c.find(0xb, 1)->ebx, 4u);
    EXPECT_EQ(c.find(0xb, 1)->eax, 2u);  // 2 bits of core ID
    EXPECT_EQ(c.find(0xb, 0)->ebx, 1u);
}

TEST(Cpuid, SingleVcpuHasNoHtt) {
    auto c = sample();
    set_vcpu_topology(c, 0, 1);
    EXPECT_FALSE(c.find(1)->edx & (1u << 28));
    EXPECT_EQ(c.find(0xb, 1)->eax, 0u);
}

TEST(Cpuid, FindHonoursSignificantIndex) {
    auto c = sample();
    EXPECT_EQ(c.find(0xb, 1)->index, 1u);
    EXPECT_EQ(c.find(1, 5)->function, 1u);  // leaf 1 ignores the index
    EXPECT_EQ(c.find(0x12345), nullptr);
}

}  // namespace
}  // namespace vmm::arch::x86_64
