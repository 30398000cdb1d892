#include "vmm/kvm.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "vmm/kvm_ioctl.h"

namespace vmm {

using namespace kvm_detail;

Result<Kvm> Kvm::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("cannot open KVM device " + path);
    Kvm kvm{UniqueFd(fd)};
    int version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version < 0)
        return Error::from_errno(path + " is not a KVM device (KVM_GET_API_VERSION)").with_kind(ErrorKind::InvalidInput);
    if (version != KVM_API_VERSION)
        return Error(ErrorKind::HostResource, fmt::format("{}: KVM API version {} (need {})", path, version, KVM_API_VERSION));
    return kvm;
}

Result<int> Kvm::check_extension(long cap) const {
    return KVM_IOCTL(m_fd.get(), KVM_CHECK_EXTENSION, cap);
}

Status Kvm::require_extension(long cap, const char* name) const {
    if (TRY(check_extension(cap)) <= 0)
        return Error(ErrorKind::HostResource, fmt::format("KVM lacks the required capability {}", name));
    return {};
}

Result<CpuidEntries> Kvm::supported_cpuid() const {
    for (size_t count = 128; count <= 4096; count *= 2) {
        FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(count);
        buf.header()->nent = static_cast<uint32_t>(count);
        if (::ioctl(m_fd.get(), IOCTL_GET_SUPPORTED_CPUID, buf.header()) < 0) {
            if (errno == E2BIG)
                continue;
            return Error::from_errno("KVM_GET_SUPPORTED_CPUID");
        }
        CpuidEntries result;
        result.entries.assign(buf.entries(), buf.entries() + buf.header()->nent);
        return result;
    }
    return Error(ErrorKind::HostResource, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

Result<std::vector<uint32_t>> Kvm::msr_index_list() const {
    MsrListHeader probe{};
    if (::ioctl(m_fd.get(), IOCTL_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
        return Error::from_errno("KVM_GET_MSR_INDEX_LIST");
    FlexBuffer<MsrListHeader, uint32_t> buf(probe.nmsrs);
    buf.header()->nmsrs = probe.nmsrs;
    TRY(checked_ioctl(m_fd.get(), IOCTL_GET_MSR_INDEX_LIST, "KVM_GET_MSR_INDEX_LIST", buf.header()));
    return std::vector<uint32_t>(buf.entries(), buf.entries() + buf.header()->nmsrs);
}

Result<Vm> Kvm::create_vm() const {
    int run_size = TRY(KVM_IOCTL(m_fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0));
    int fd = TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_VM, 0));
    return Vm(UniqueFd(fd), static_cast<size_t>(run_size));
}

Status Vm::set_user_memory_region(uint32_t slot, uint64_t gpa, uint64_t size, void* host, bool log_dirty) {
    kvm_userspace_memory_region region{};
    region.slot = slot;
    region.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0;
    region.guest_phys_addr = gpa;
    region.memory_size = size;
    region.userspace_addr = reinterpret_cast<uint64_t>(host);
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_USER_MEMORY_REGION, &region));
    return {};
}

Result<std::vector<uint64_t>> Vm::get_dirty_log(uint32_t slot, uint64_t size) const {
    std::vector<uint64_t> bits((size / 4096 + 63) / 64);
    kvm_dirty_log log{};
    log.slot = slot;
    log.dirty_bitmap = bits.data();
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_DIRTY_LOG, &log));
    return bits;
}

Status Vm::set_tss_addr(uint64_t addr) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(addr)));
    return {};
}

Status Vm::set_identity_map_addr(uint64_t addr) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_IDENTITY_MAP_ADDR, &addr));
    return {};
}

Status Vm::create_irqchip() {
    TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_IRQCHIP, 0));
    return {};
}

Status Vm::create_pit2() {
    kvm_pit_config config{};
    config.flags = KVM_PIT_SPEAKER_DUMMY;
    TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_PIT2, &config));
    return {};
}

Status Vm::set_irq_line(uint32_t irq, bool level) {
    kvm_irq_level line{};
    line.irq = irq;
    line.level = level ? 1 : 0;
    TRY(KVM_IOCTL(m_fd.get(), KVM_IRQ_LINE, &line));
    return {};
}

Status Vm::register_irqfd(int eventfd, uint32_t gsi) {
    kvm_irqfd irqfd{};
    irqfd.fd = static_cast<uint32_t>(eventfd);
    irqfd.gsi = gsi;
    TRY(KVM_IOCTL(m_fd.get(), KVM_IRQFD, &irqfd));
    return {};
}

Status Vm::register_ioeventfd(int eventfd, uint64_t addr, uint32_t len, uint64_t datamatch) {
    kvm_ioeventfd io{};
    io.datamatch = datamatch;
    io.addr = addr;
    io.len = len;
    io.fd = eventfd;
    io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
    TRY(KVM_IOCTL(m_fd.get(), KVM_IOEVENTFD, &io));
    return {};
}

namespace {

kvm_ioeventfd any_write(int eventfd, uint64_t addr, uint32_t len, uint32_t flags) {
    kvm_ioeventfd io{};
    io.addr = addr;
    io.len = len;
    io.fd = eventfd;
    io.flags = flags;
    return io;
}

}  // namespace

Status Vm::register_ioeventfd_any(int eventfd, uint64_t addr, uint32_t len) {
    kvm_ioeventfd io = any_write(eventfd, addr, len, 0);
    TRY(KVM_IOCTL(m_fd.get(), KVM_IOEVENTFD, &io));
    return {};
}

Status Vm::unregister_ioeventfd_any(int eventfd, uint64_t addr, uint32_t len) {
    kvm_ioeventfd io = any_write(eventfd, addr, len, KVM_IOEVENTFD_FLAG_DEASSIGN);
    TRY(KVM_IOCTL(m_fd.get(), KVM_IOEVENTFD, &io));
    return {};
}

Status Vm::set_gsi_routing(const std::vector<kvm_irq_routing_entry>& entries) {
    FlexBuffer<IrqRoutingHeader, kvm_irq_routing_entry> buf(entries.size());
    buf.header()->nr = static_cast<uint32_t>(entries.size());
    std::copy(entries.begin(), entries.end(), buf.entries());
    TRY(checked_ioctl(m_fd.get(), IOCTL_SET_GSI_ROUTING, "KVM_SET_GSI_ROUTING", buf.header()));
    return {};
}

Result<Vcpu> Vm::create_vcpu(uint32_t id) {
    int fd = TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(id)));
    UniqueFd owned(fd);
    void* run = ::mmap(nullptr, m_run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (run == MAP_FAILED)
        return Error::from_errno("mmap of kvm_run");
    return Vcpu(id, std::move(owned), Mapping(run, m_run_mmap_size));
}

Status Vcpu::run() {
    if (::ioctl(m_fd.get(), KVM_RUN, 0) < 0)
        return Error::from_errno("KVM_RUN");
    return {};
}

Result<kvm_regs> Vcpu::get_regs() const {
    kvm_regs regs{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_REGS, &regs));
    return regs;
}

Status Vcpu::set_regs(const kvm_regs& regs) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_REGS, &regs));
    return {};
}

Result<kvm_sregs> Vcpu::get_sregs() const {
    kvm_sregs sregs{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_SREGS, &sregs));
    return sregs;
}

Status Vcpu::set_sregs(const kvm_sregs& sregs) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_SREGS, &sregs));
    return {};
}

Status Vcpu::set_fpu(const kvm_fpu& fpu) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_FPU, &fpu));
    return {};
}

Status Vcpu::set_cpuid(const CpuidEntries& cpuid) {
    FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(cpuid.entries.size());
    buf.header()->nent = static_cast<uint32_t>(cpuid.entries.size());
    std::memcpy(buf.entries(), cpuid.entries.data(), cpuid.entries.size() * sizeof(kvm_cpuid_entry2));
    TRY(checked_ioctl(m_fd.get(), IOCTL_SET_CPUID2, "KVM_SET_CPUID2", buf.header()));
    return {};
}

Status Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
    FlexBuffer<MsrsHeader, kvm_msr_entry> buf(msrs.size());
    buf.header()->nmsrs = static_cast<uint32_t>(msrs.size());
    std::memcpy(buf.entries(), msrs.data(), msrs.size() * sizeof(kvm_msr_entry));
    int written = TRY(checked_ioctl(m_fd.get(), IOCTL_SET_MSRS, "KVM_SET_MSRS", buf.header()));
    if (static_cast<size_t>(written) != msrs.size())
        return Error(ErrorKind::HostResource, fmt::format("KVM_SET_MSRS: MSR {:#x} rejected", msrs[written].index));
    return {};
}

Result<kvm_lapic_state> Vcpu::get_lapic() const {
    kvm_lapic_state lapic{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_LAPIC, &lapic));
    return lapic;
}

Status Vcpu::set_lapic(const kvm_lapic_state& lapic) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_LAPIC, &lapic));
    return {};
}

Result<kvm_translation> Vcpu::translate(uint64_t linear) const {
    kvm_translation tr{};
    tr.linear_address = linear;
    TRY(KVM_IOCTL(m_fd.get(), KVM_TRANSLATE, &tr));
    return tr;
}

}  // namespace vmm
