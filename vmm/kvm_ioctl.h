// Inside the KVM wrappers only (kvm.cpp, kvm_state.cpp): the checked ioctl and the C layouts
// of KVM's variable-length structs.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>
#include <vector>

#include "base/result.h"

namespace vmm::kvm_detail {

// ioctl that retries nothing and names itself on failure.
template <typename Arg>
Result<int> checked_ioctl(int fd, unsigned long request, const char* name, Arg arg) {
    int ret = ::ioctl(fd, request, arg);
    if (ret < 0)
        return Error::from_errno(name);
    return ret;
}

#define KVM_IOCTL(fd, req, arg) checked_ioctl((fd), (req), #req, (arg))

// kvm_cpuid2, kvm_msrs and kvm_msr_list (asm/kvm.h) and kvm_irq_routing (linux/kvm.h) end in a flexible array declared with
// __DECLARE_FLEX_ARRAY, which in C++ adds a one-byte member: sizeof and the array offset then
// differ from the kernel's, and so would the ioctl numbers. These are the C layouts.
struct CpuidHeader { uint32_t nent; uint32_t padding; };
struct MsrsHeader { uint32_t nmsrs; uint32_t pad; };
struct MsrListHeader { uint32_t nmsrs; };
struct IrqRoutingHeader { uint32_t nr; uint32_t flags; };
static_assert(sizeof(CpuidHeader) == 8 && sizeof(MsrsHeader) == 8 && sizeof(MsrListHeader) == 4);
static_assert(sizeof(IrqRoutingHeader) == 8);

constexpr unsigned long IOCTL_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long IOCTL_SET_CPUID2 = _IOW(KVMIO, 0x90, CpuidHeader);
constexpr unsigned long IOCTL_GET_MSR_INDEX_LIST = _IOWR(KVMIO, 0x02, MsrListHeader);
constexpr unsigned long IOCTL_SET_MSRS = _IOW(KVMIO, 0x89, MsrsHeader);
constexpr unsigned long IOCTL_GET_MSRS = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long IOCTL_GET_XSAVE = _IOR(KVMIO, 0xa4, uint32_t[1024]);
constexpr unsigned long IOCTL_SET_XSAVE = _IOW(KVMIO, 0xa5, uint32_t[1024]);
constexpr unsigned long IOCTL_SET_GSI_ROUTING = _IOW(KVMIO, 0x6a, IrqRoutingHeader);
static_assert(IOCTL_SET_GSI_ROUTING == 0x4008ae6aul);
static_assert(IOCTL_GET_XSAVE == 0x9000aea4ul && IOCTL_SET_XSAVE == 0x5000aea5ul);
static_assert(IOCTL_GET_SUPPORTED_CPUID == 0xc008ae05ul);

// A header followed by `count` entries, as the kernel lays them out.
template <typename Header, typename Entry>
struct FlexBuffer {
    explicit FlexBuffer(size_t count) : bytes(sizeof(Header) + count * sizeof(Entry)) {}
    // SAFETY: the buffer holds a Header then `count` Entries, aligned by new[] for any
    // fundamental type; both are C structs with no invariants.
    Header* header() { return reinterpret_cast<Header*>(bytes.data()); }
    Entry* entries() { return reinterpret_cast<Entry*>(bytes.data() + sizeof(Header)); }
    std::vector<uint8_t> bytes;
};


// A fixed-size KVM struct read or written whole.
template <typename T>
Result<T> get_struct(int fd, unsigned long request, const char* name) {
    T value{};
    TRY(checked_ioctl(fd, request, name, &value));
    return value;
}

template <typename T>
Status set_struct(int fd, unsigned long request, const char* name, const T& value) {
    TRY(checked_ioctl(fd, request, name, &value));
    return {};
}

}  // namespace vmm::kvm_detail
