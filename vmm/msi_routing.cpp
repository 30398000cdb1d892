#include "vmm/msi_routing.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "vmm/host_layout.h"
#include "base/rate_limiter.h"

namespace vmm {

namespace layout = host_layout;

namespace {

// KVM's routing table holds at most KVM_MAX_IRQ_ROUTES (4096) GSIs.
constexpr uint32_t MAX_GSI = 4095;

kvm_irq_routing_entry irqchip_route(uint32_t gsi, uint32_t chip, uint32_t pin) {
    kvm_irq_routing_entry entry{};
    entry.gsi = gsi;
    entry.type = KVM_IRQ_ROUTING_IRQCHIP;
    entry.u.irqchip.irqchip = chip;
    entry.u.irqchip.pin = pin;
    return entry;
}

}  // namespace

std::vector<kvm_irq_routing_entry> GsiRouting::irqchip_routes() {
    std::vector<kvm_irq_routing_entry> routes;
#if defined(__x86_64__)
    for (uint32_t gsi = 0; gsi < layout::IOAPIC_PINS; ++gsi) {
        if (gsi < 8)
            routes.push_back(irqchip_route(gsi, KVM_IRQCHIP_PIC_MASTER, gsi));
        else if (gsi < 16)
            routes.push_back(irqchip_route(gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8));
        routes.push_back(irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi));
    }
#else
    for (uint32_t gsi = 0; gsi < layout::SPI_COUNT; ++gsi)
        routes.push_back(irqchip_route(gsi, 0, gsi));  // the vGIC: GSI n is SPI n
#endif
    return routes;
}

GsiRouting::GsiRouting(Vm& vm) : m_vm(vm), m_next(layout::FIRST_MSI_GSI) {}

Result<uint32_t> GsiRouting::allocate() {
    std::lock_guard lock(m_mutex);
    if (m_next > MAX_GSI)
        return Error("no GSI left for an MSI route");
    return m_next++;
}

Status GsiRouting::route(uint32_t gsi, const pci::MsiMessage& message) {
    return route_all(std::span(&gsi, 1), message);
}

Status GsiRouting::route_all(std::span<const uint32_t> gsis, const pci::MsiMessage& message) {
    std::lock_guard lock(m_mutex);
    for (const uint32_t gsi : gsis)
        m_msi[gsi] = message;
    return install();
}

Status GsiRouting::install() {
    std::vector<kvm_irq_routing_entry> table = irqchip_routes();
    for (const auto& [msi_gsi, msg] : m_msi) {
        kvm_irq_routing_entry entry{};
        entry.gsi = msi_gsi;
        entry.type = KVM_IRQ_ROUTING_MSI;
        entry.u.msi.address_lo = static_cast<uint32_t>(msg.address);
        entry.u.msi.address_hi = static_cast<uint32_t>(msg.address >> 32);
        entry.u.msi.data = msg.data;
        table.push_back(entry);
    }
    return m_vm.set_gsi_routing(table);
}

Result<std::unique_ptr<KvmMsiVectors>> KvmMsiVectors::create(Vm& vm, GsiRouting& routing, uint16_t vectors) {
    std::unique_ptr<KvmMsiVectors> sink(new KvmMsiVectors(routing));
    for (uint16_t i = 0; i < vectors; ++i) {
        Vector vector;
        vector.gsi = TRY(routing.allocate());
        const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
            return Error::from_errno("eventfd");
        vector.fd = UniqueFd(fd);
        sink->m_vectors.push_back(std::move(vector));
    }
    // An irqfd is bound to a routed GSI: every vector starts at an inert message (rewritten
    // before its first delivery), all in one table update.
    std::vector<uint32_t> gsis;
    for (const auto& vector : sink->m_vectors)
        gsis.push_back(vector.gsi);
    TRY(routing.route_all(gsis, {}));
    for (auto& vector : sink->m_vectors)
        TRY(vm.register_irqfd(vector.fd.get(), vector.gsi));
    return sink;
}

void KvmMsiVectors::deliver(uint16_t index, const pci::MsiMessage& message) {
    std::lock_guard lock(m_mutex);
    if (index >= m_vectors.size())
        return;
    Vector& vector = m_vectors[index];
    if (!vector.has_route || vector.routed != message) {
        if (auto routed = m_routing.route(vector.gsi, message); !routed.ok()) {
            if (allow_guest_message())
                spdlog::warn("MSI vector {}: {}", index, routed.error().message());
            return;
        }
        vector.routed = message;
        vector.has_route = true;
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(vector.fd.get(), &one, sizeof one);
}

}  // namespace vmm
