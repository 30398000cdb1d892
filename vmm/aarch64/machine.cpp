// The arm64 machine: a vGICv3 (v2 where the host has no GICv3) and the architected timer in
// KVM, a 16550A UART on MMIO, QEMU's debug-exit on MMIO (on request), virtio-mmio devices; the
// kernel as an Image (gzip too) with its device tree and initramfs in RAM; vCPUs with PSCI 0.2+,
// the secondaries powered off until the guest's PSCI CPU_ON, the boot one entering the kernel
// with x0 = the device tree (Documentation/arm64/booting.rst).
#include <sys/random.h>

#include <cstddef>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arch/aarch64/fdt.h"
#include "arch/aarch64/layout.h"
#include "boot/aarch64/image.h"
#include "boot/initrd.h"
#include "devices/legacy/debug_exit.h"
#include "vmm/aarch64/core_regs.h"
#include "vmm/machine.h"
#include "vmm/vm_parts.h"

namespace vmm {

namespace layout = arch::aarch64::layout;

namespace {

constexpr uint64_t REG_PC = arm64_regs::PC;
constexpr uint64_t REG_PSTATE = arm64_regs::PSTATE;
constexpr uint64_t REG_X0 = arm64_regs::X0;
constexpr uint64_t REG_MPIDR = ARM64_SYS_REG(3, 0, 0, 0, 5);  // MPIDR_EL1
// EL1h with D, A, I and F masked: the state booting.rst asks for at the kernel's entry.
constexpr uint64_t BOOT_PSTATE = PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT;
constexpr uint64_t MPIDR_AFFINITY = 0xff00ffffffull;  // Aff3, Aff2, Aff1, Aff0

// The MPIDR KVM gives vCPU `id` (its reset_mpidr: Aff0 the low 4 bits, Aff1 the next 8).
uint64_t mpidr_of(uint32_t id) { return (uint64_t((id >> 12) & 0xff) << 16) | (uint64_t((id >> 4) & 0xff) << 8) | (id & 0xf); }

class Arm64Machine final : public Machine {
public:
    std::vector<std::pair<long, const char*>> required_capabilities() const override {
        return {{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
                {KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG"},
                {KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL"},
                {KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2"},
                {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
                {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
                {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}};
    }
    std::vector<MemoryRegionSpec> ram_regions(uint64_t memory) const override { return {{layout::RAM_BASE, memory}}; }
    uint64_t image_size_limit(uint64_t memory) const override { return memory; }

    Status create_irqchip(VmParts& vmm, const VmConfig& config) override;
    Status attach_platform_devices(VmParts& vmm, const VmConfig& config) override;
    Status load_kernel(VmParts& vmm, const VmConfig& config, std::span<const uint8_t> kernel,
                       std::span<const uint8_t> initrd, boot::KernelCmdline& cmdline) override;
    Status create_vcpus(VmParts& vmm, const VmConfig& config) override;

private:
    Status add_vcpus(VmParts& vmm, const VmConfig& config);

    std::optional<KvmDevice> m_gic;
    uint32_t m_gic_version = 3;
    uint64_t m_entry = 0;
    uint64_t m_fdt = 0;
};

// The vGIC, then the vCPUs (each gets its redistributor), then the vGIC's initialisation: all
// before any device is attached, since KVM accepts an irqfd only on an initialised vGIC
// (kvm_irqfd_assign: EAGAIN before).
Status Arm64Machine::create_irqchip(VmParts& vmm, const VmConfig& config) {
    const uint32_t lines = layout::SPI_INTID_BASE + layout::SPI_COUNT;
    if (auto v3 = vmm.vm->create_device(KVM_DEV_TYPE_ARM_VGIC_V3); v3.ok()) {
        m_gic.emplace(std::move(*v3));
        const uint64_t dist = layout::GIC_DIST_BASE, redist = layout::GIC_REDIST_BASE;
        TRY(m_gic->set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist, "vGICv3 distributor"));
        TRY(m_gic->set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist, "vGICv3 redistributors"));
        spdlog::info("interrupt controller: vGICv3");
    } else {
        // Hosts with a GICv2 (or a GICv3 without its v2 compatibility) take a vGICv2, at most 8 vCPUs.
        if (config.cpus > 8)
            return Error(ErrorKind::HostResource,
                         fmt::format("this host's KVM has no vGICv3 ({}), and a vGICv2 serves at most 8 vCPUs",
                                     v3.error().message()));
        m_gic.emplace(TRY_CTX(vmm.vm->create_device(KVM_DEV_TYPE_ARM_VGIC_V2), "no vGICv3 or vGICv2"));
        m_gic_version = 2;
        const uint64_t dist = layout::GIC_DIST_BASE, cpu = layout::GIC_CPU_BASE;
        TRY(m_gic->set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist, "vGICv2 distributor"));
        TRY(m_gic->set_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu, "vGICv2 CPU interface"));
        spdlog::info("interrupt controller: vGICv2 (this host's KVM has no vGICv3: {})", v3.error().message());
    }
    TRY(m_gic->set_attr(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &lines, "vGIC interrupt count"));
    TRY(add_vcpus(vmm, config));
    TRY(m_gic->set_attr(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr, "vGIC initialisation"));
    return {};
}

// Every vCPU with PSCI 0.2+, the secondaries powered off until the guest's PSCI CPU_ON.
Status Arm64Machine::add_vcpus(VmParts& vmm, const VmConfig& config) {
    const kvm_vcpu_init init = TRY(vmm.vm->preferred_target());
    for (uint32_t id = 0; id < config.cpus; ++id) {
        Vcpu vcpu = TRY(vmm.vm->create_vcpu(id));
        kvm_vcpu_init features = init;
        features.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
        if (id > 0)
            features.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
        TRY_CTX(vcpu.arm_init(features), fmt::format("vCPU {}", id));
        // The device tree names each CPU by the MPIDR KVM gave it.
        const uint64_t mpidr = TRY_CTX(vcpu.get_one_reg(REG_MPIDR), fmt::format("vCPU {} MPIDR_EL1", id));
        if ((mpidr & MPIDR_AFFINITY) != mpidr_of(id))
            return Error(ErrorKind::Internal, fmt::format("vCPU {}: KVM gave MPIDR {:#x}, not {:#x}", id, mpidr, mpidr_of(id)));
        vmm.vcpus.push_back(std::move(vcpu));
    }
    return {};
}

Status Arm64Machine::attach_platform_devices(VmParts& vmm, const VmConfig& config) {
    if (config.transport == VmConfig::Transport::Pci)
        return Error("--transport pci is not available on arm64 yet; use mmio");
    Lifecycle& lifecycle = *vmm.lifecycle;
    Bus& mmio = vmm.devices.mmio_bus();
    vmm.serial_host = std::make_unique<HostConsole>(config.serial, "serial");
    HostConsole* host = vmm.serial_host.get();
    vmm.serial = std::make_shared<SerialPort>(vmm.devices.add_irq_line(*vmm.vm, layout::UART_SPI),
                                              [host](std::span<const uint8_t> bytes) { host->write(bytes); });
    vmm.serial->with_model([host](Serial& uart) { uart.set_rx_drained_listener([host] { host->input_space(); }); });
    TRY(mmio.insert(layout::UART_BASE, 8, vmm.serial));  // eight byte-wide registers, reg-shift 0
    // Only on request: otherwise a guest could choose Ember's exit status.
    if (config.debug_exit) {
        auto debug_exit = std::make_shared<DebugExit>([&lifecycle](int code) {
            lifecycle.request_stop(code, "guest wrote to the debug-exit register");
        });
        TRY(mmio.insert(layout::DEBUG_EXIT_BASE, 4, debug_exit));
    }
    return {};
}

Status Arm64Machine::load_kernel(VmParts& vmm, const VmConfig& config, std::span<const uint8_t> kernel,
                                 std::span<const uint8_t> initrd, boot::KernelCmdline& cmdline) {
    // Kernels without a device tree driver for virtio-mmio find the devices on the command line.
    if (config.virtio_mmio_cmdline)
        TRY(announce_on_cmdline(vmm.devices.virtio_resources(), cmdline));
    std::vector<uint8_t> unpacked;
    if (boot::aarch64::is_gzip(kernel)) {
        unpacked = TRY(boot::aarch64::gunzip(kernel, config.memory));
        kernel = unpacked;
    }
    const auto image = TRY(boot::aarch64::load_image(*vmm.memory, kernel, layout::RAM_BASE, config.memory));
    // The device tree in the last whole 2 MiB block of RAM, the initramfs below it.
    const uint64_t ram_end = layout::RAM_BASE + config.memory;
    const uint64_t fdt = (ram_end - layout::FDT_MAX_SIZE) & ~(layout::FDT_MAX_SIZE - 1);
    if (fdt < image.end)
        return Error(fmt::format("--memory {} MiB leaves no room after the kernel for its device tree", config.memory >> 20));
    const auto placed = TRY(boot::load_initrd(*vmm.memory, initrd, image.end, fdt, UINT64_MAX));

    arch::aarch64::FdtSpec spec;
    for (uint32_t id = 0; id < config.cpus; ++id)
        spec.mpidrs.push_back(mpidr_of(id));
    spec.ram_base = layout::RAM_BASE;
    spec.ram_size = config.memory;
    spec.bootargs = cmdline.str();
    if (placed.size)
        spec.initrd = {{placed.addr, placed.addr + placed.size}};
    spec.gic_version = m_gic_version;
    spec.virtio_mmio = vmm.devices.virtio_resources();
    if (::getrandom(&spec.kaslr_seed, sizeof spec.kaslr_seed, GRND_NONBLOCK) != sizeof spec.kaslr_seed)
        spec.kaslr_seed = 0;
    const auto blob = TRY(arch::aarch64::build_fdt(spec));
    TRY_CTX(vmm.memory->write(fdt, blob), "writing the device tree");
    spdlog::info("loaded arm64 Image at {:#x}, device tree at {:#x}, {} vCPUs, {} MiB", image.entry, fdt, config.cpus,
                 config.memory >> 20);
    m_entry = image.entry;
    m_fdt = fdt;
    return {};
}

// The vCPUs exist already (create_irqchip): the boot one gets the kernel's entry.
Status Arm64Machine::create_vcpus(VmParts& vmm, const VmConfig&) {
    Vcpu& boot = vmm.vcpus.front();
    TRY(boot.set_one_reg(REG_PSTATE, BOOT_PSTATE));
    TRY(boot.set_one_reg(REG_X0, m_fdt));
    TRY(boot.set_one_reg(REG_PC, m_entry));
    return {};
}

}  // namespace

std::unique_ptr<Machine> host_machine() { return std::make_unique<Arm64Machine>(); }

}  // namespace vmm
