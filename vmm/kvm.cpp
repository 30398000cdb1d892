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

Status Vm::set_irq_line(uint32_t irq, bool level) {
    kvm_irq_level line{};
#if defined(__aarch64__)
    // The vGIC's encoding: type SPI, then the INTID (asm/kvm.h KVM_ARM_IRQ_*).
    line.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (irq + 32);
#else
    line.irq = irq;
#endif
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

}  // namespace vmm
