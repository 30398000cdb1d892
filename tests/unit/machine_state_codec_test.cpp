#include "vmm/machine_state_codec.h"

#include <gtest/gtest.h>

#include <cstring>

namespace vmm {
namespace {

// Every byte of every field set, so a field the codec drops or moves shows.
template <typename T>
void fill(T& value, uint8_t seed) {
    auto* bytes = reinterpret_cast<uint8_t*>(&value);
    for (size_t i = 0; i < sizeof(T); ++i)
        bytes[i] = static_cast<uint8_t>(seed + i * 7);
}

MachineState sample(uint32_t vcpus, bool pit) {
    MachineState state{};
    for (size_t i = 0; i < state.vm.irqchips.size(); ++i)
        fill(state.vm.irqchips[i], static_cast<uint8_t>(i + 1));
    if (pit)
        fill(state.vm.pit.emplace(), 9);
    fill(state.vm.clock, 11);
    for (uint32_t i = 0; i < vcpus; ++i) {
        VcpuState vcpu{};
        fill(vcpu.mp_state, 20 + i);
        fill(vcpu.regs, 21 + i);
        fill(vcpu.sregs, 22 + i);
        fill(vcpu.xsave, 23 + i);
        fill(vcpu.xcrs, 24 + i);
        fill(vcpu.debugregs, 25 + i);
        fill(vcpu.lapic, 26 + i);
        vcpu.msrs.resize(3 + i);
        for (auto& msr : vcpu.msrs)
            fill(msr, static_cast<uint8_t>(27 + i));
        fill(vcpu.events, 28 + i);
        state.vcpus.push_back(vcpu);
    }
    return state;
}

template <typename T>
bool same(const T& a, const T& b) { return std::memcmp(&a, &b, sizeof(T)) == 0; }

MachineState through_file(const MachineState& state, uint32_t max_vcpus = 254) {
    StateFile file;
    encode_machine_state(state, file);
    const auto bytes = file.serialize();
    auto parsed = StateFile::parse(bytes, "snapshot").value();
    return decode_machine_state(parsed, max_vcpus).value();
}

TEST(MachineStateCodec, EveryFieldOfEveryVcpuRoundTrips) {
    for (bool pit : {false, true}) {
        const MachineState state = sample(3, pit);
        const MachineState back = through_file(state);
        for (size_t i = 0; i < state.vm.irqchips.size(); ++i)
            EXPECT_TRUE(same(state.vm.irqchips[i], back.vm.irqchips[i]));
        ASSERT_EQ(back.vm.pit.has_value(), pit);
        if (pit) {
            EXPECT_TRUE(same(*state.vm.pit, *back.vm.pit));
        }
        EXPECT_TRUE(same(state.vm.clock, back.vm.clock));
        ASSERT_EQ(back.vcpus.size(), 3u);
        for (size_t i = 0; i < 3; ++i) {
            const VcpuState& a = state.vcpus[i];
            const VcpuState& b = back.vcpus[i];
            EXPECT_TRUE(same(a.mp_state, b.mp_state) && same(a.regs, b.regs) && same(a.sregs, b.sregs) &&
                        same(a.xsave, b.xsave) && same(a.xcrs, b.xcrs) && same(a.debugregs, b.debugregs) &&
                        same(a.lapic, b.lapic) && same(a.events, b.events))
                << "vCPU " << i;
            ASSERT_EQ(a.msrs.size(), b.msrs.size());
            EXPECT_EQ(std::memcmp(a.msrs.data(), b.msrs.data(), a.msrs.size() * sizeof a.msrs[0]), 0);
        }
    }
}

// The sections as a crafted file holds them (the CRC is right, the contents lie).
Result<MachineState> decode_sections(std::vector<uint8_t> vm, std::vector<uint8_t> vcpus, uint32_t max_vcpus = 8) {
    StateFile file;
    file.add(VM_STATE_TAG, std::move(vm));
    file.add(VCPU_STATE_TAG, std::move(vcpus));
    const auto bytes = file.serialize();
    return decode_machine_state(StateFile::parse(bytes, "snapshot").value(), max_vcpus);
}

TEST(MachineStateCodec, CraftedSectionsAreRefused) {
    StateFile good;
    encode_machine_state(sample(2, true), good);
    const auto vm = good.section(VM_STATE_TAG).value();
    const auto vcpus = good.section(VCPU_STATE_TAG).value();
    const std::vector<uint8_t> vm_bytes(vm.begin(), vm.end()), vcpu_bytes(vcpus.begin(), vcpus.end());
    ASSERT_TRUE(decode_sections(vm_bytes, vcpu_bytes).ok());

    EXPECT_FALSE(decode_sections(vm_bytes, vcpu_bytes, 1).ok()) << "more vCPUs than the host allows";
    auto none = vcpu_bytes;
    std::memset(none.data(), 0, 4);
    EXPECT_FALSE(decode_sections(vm_bytes, {none.begin(), none.begin() + 4}).ok()) << "no vCPUs";
    for (size_t cut : {size_t{1}, size_t{100}, vcpu_bytes.size() / 2})
        EXPECT_FALSE(decode_sections(vm_bytes, {vcpu_bytes.begin(), vcpu_bytes.end() - cut}).ok()) << cut;
    auto longer = vcpu_bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode_sections(vm_bytes, longer).ok()) << "bytes after the last vCPU";
    auto bad_pit = vm_bytes;
    bad_pit[3 * sizeof(kvm_irqchip)] = 2;
    auto result = decode_sections(bad_pit, vcpu_bytes);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message().find("the PIT flag is 2"), std::string::npos) << result.error().message();
    // An MSR count far beyond any KVM's, before anything is sized by it.
    StateFile one_vcpu;
    encode_machine_state(sample(1, true), one_vcpu);
    const auto one = one_vcpu.section(VCPU_STATE_TAG).value();
    std::vector<uint8_t> msrs(one.begin(), one.end());
    const size_t msr_count_at = 4 + sizeof(kvm_mp_state) + sizeof(kvm_regs) + sizeof(kvm_sregs) + sizeof(XsaveArea) +
                                sizeof(kvm_xcrs) + sizeof(kvm_debugregs) + sizeof(kvm_lapic_state);
    const uint32_t huge_count = 0xffffffff;
    std::memcpy(msrs.data() + msr_count_at, &huge_count, 4);
    auto huge = decode_sections(vm_bytes, msrs);
    ASSERT_FALSE(huge.ok());
    EXPECT_NE(huge.error().message().find("MSRs (at most 1024)"), std::string::npos) << huge.error().message();
    StateFile missing;
    missing.add(VM_STATE_TAG, vm_bytes);
    const auto bytes = missing.serialize();
    EXPECT_FALSE(decode_machine_state(StateFile::parse(bytes, "snapshot").value(), 8).ok());
}

}  // namespace
}  // namespace vmm
