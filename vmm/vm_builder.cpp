#include "vmm/vm_builder.h"

#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/interrupts.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/mptable.h"
#include "arch/x86_64/msrs.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/reset_vector.h"
#include "boot/image_file.h"
#include "boot/x86_64/kernel_loader.h"
#include "devices/legacy/acpi_power.h"
#include "devices/legacy/byte_register_device.h"
#include "devices/legacy/cmos.h"
#include "devices/legacy/debug_exit.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/post_code.h"
#include "devices/virtio/block.h"
#include "devices/virtio/console.h"
#include "devices/virtio/rng.h"
#include "vmm/boot_layout.h"
#include "vmm/net_devices.h"
#include "vmm/device_manager.h"

namespace vmm {

namespace x86 = arch::x86_64;
namespace layout = arch::x86_64::layout;

namespace {

struct BootFiles {
    std::vector<uint8_t> kernel;
    std::vector<uint8_t> initrd;
};

Result<BootFiles> read_boot_files(const VmConfig& config) {
    BootFiles files;
    const uint64_t limit = x86::low_ram_end(config.memory);
    files.kernel = TRY(boot::read_image_file(config.kernel, "kernel", limit));
    if (!config.initramfs.empty())
        files.initrd = TRY(boot::read_image_file(config.initramfs, "initramfs", limit));
    return files;
}

Status open_kvm(Vmm& vmm, const VmConfig& config) {
    vmm.kvm = TRY(Kvm::open(config.kvm_device));
    const std::pair<long, const char*> required[] = {
        {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
        {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
        {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
        {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
    };
    for (const auto& [cap, name] : required)
        TRY(vmm.kvm->require_extension(cap, name));
    const int max_vcpus = TRY(vmm.kvm->check_extension(KVM_CAP_MAX_VCPUS));
    if (max_vcpus > 0 && config.cpus > static_cast<uint32_t>(max_vcpus))
        return Error(fmt::format("--cpus {}: this KVM allows at most {} vCPUs", config.cpus, max_vcpus));
    return {};
}

Status create_vm(Vmm& vmm) {
    vmm.vm = TRY(vmm.kvm->create_vm());
    vmm.lifecycle = TRY(Lifecycle::create());
    vmm.loop = TRY(EventLoop::create());
    return {};
}

Status create_guest_memory(Vmm& vmm, uint64_t size) {
    const auto specs = x86::ram_regions(size);
    vmm.memory = TRY(GuestMemory::create(specs));
    uint32_t slot = 0;
    for (const auto& region : vmm.memory->regions())
        TRY(vmm.vm->set_user_memory_region(slot++, region.gpa, region.size, region.host));
    return {};
}

Status create_interrupt_controller(Vmm& vmm, const VmConfig& config) {
    TRY(vmm.vm->set_tss_addr(layout::TSS_ADDR));
    TRY(vmm.vm->set_identity_map_addr(layout::IDENTITY_MAP_ADDR));
    TRY(vmm.vm->create_irqchip());
    if (config.pit) {
        TRY(vmm.vm->create_pit2());
        vmm.has_pit = true;
    }
    return {};
}

Result<std::vector<virtio::DiskFile>> open_disks(const VmConfig& config) {
    std::vector<virtio::DiskFile> disks;
    for (const auto& disk : config.disks)
        disks.push_back(TRY(virtio::DiskFile::open(disk.path, disk.readonly)));
    return disks;
}

Status attach_block_devices(Vmm& vmm, const VmConfig& config, std::vector<virtio::DiskFile> disks) {
    for (size_t i = 0; i < disks.size(); ++i) {
        const DiskConfig& disk = config.disks[i];
        const virtio::BlockOptions options{
            disk.serial, disk.cache == DiskConfig::Cache::Writeback,
            disk.engine == DiskConfig::Engine::IoUring ? virtio::DiskEngineKind::IoUring
                                                       : virtio::DiskEngineKind::Sync};
        auto block = TRY_CTX(virtio::Block::create(std::move(disks[i]), *vmm.memory, options),
                             fmt::format("disk '{}': engine=io_uring", disk.path));
        TRY(vmm.attach_virtio(disk.id, std::move(block)));
    }
    return {};
}

Status attach_rng_device(Vmm& vmm, const VmConfig& config) {
    if (!config.rng)
        return {};
    TRY(vmm.attach_virtio(VmConfig::RNG_ID, std::make_unique<virtio::Rng>(*vmm.memory, virtio::Rng::system_random)));
    return {};
}

Status attach_console_device(Vmm& vmm, const VmConfig& config) {
    if (config.console.mode == ConsoleConfig::Mode::Off)
        return {};
    vmm.console_host = std::make_unique<HostConsole>(config.console, "console");
    HostConsole* host = vmm.console_host.get();
    auto device = std::make_unique<virtio::Console>(
        *vmm.memory, [host](std::span<const uint8_t> bytes) { host->write(bytes); },
        [host] { host->input_space(); });
    virtio::Console* console = device.get();
    std::shared_ptr<virtio::MmioTransport> transport = TRY(vmm.attach_virtio(VmConfig::CONSOLE_ID, std::move(device))).transport;
    vmm.console_input = [console, transport](std::span<const uint8_t> bytes) {
        const size_t accepted = console->enqueue_input(bytes);
        transport->notify(virtio::Console::RECEIVEQ);  // deliver into posted receive buffers
        return accepted;
    };
    return {};
}

Result<boot::LoadedKernel> load_kernel(Vmm& vmm, const VmConfig& config, const BootFiles& files,
                                       boot::KernelCmdline& cmdline) {
    // The guest learns its CPUs from either table: MP for older kernels, ACPI for the rest;
    // its devices from the DSDT, or the command line for kernels without ACPI.
    const x86::AcpiDevices devices{true, vmm.devices.virtio_resources()};
    if (config.virtio_mmio_cmdline)
        TRY(announce_on_cmdline(devices.virtio_mmio, cmdline));
    TRY(x86::write_mptable(*vmm.memory, config.cpus));
    const uint64_t rsdp = TRY(x86::write_acpi_tables(*vmm.memory, config.cpus, devices));
    TRY(x86::write_reset_vector(*vmm.memory));
    const boot::BootSpec spec{files.kernel, files.initrd, cmdline, x86_boot_layout(),
                              x86::e820_map(config.memory), x86::low_ram_end(config.memory), rsdp};
    auto loaded = TRY(boot::load_kernel(*vmm.memory, spec));
    TRY(x86::write_boot_tables(*vmm.memory, cpu_mode(loaded.entry.mode)));
    spdlog::info("loaded {} kernel, entry {:#x}, {} vCPUs, {} MiB", boot::format_name(loaded.format),
                 loaded.entry.entry, config.cpus, config.memory >> 20);
    return loaded;
}

Status attach_legacy_devices(Vmm& vmm, const VmConfig& config) {
    Lifecycle& lifecycle = *vmm.lifecycle;
    vmm.serial_host = std::make_unique<HostConsole>(config.serial, "serial");
    HostConsole* host = vmm.serial_host.get();
    vmm.serial = std::make_shared<SerialPort>(vmm.devices.add_irq_line(*vmm.vm, layout::COM1_IRQ),
                                              [host](std::span<const uint8_t> bytes) { host->write(bytes); });
    vmm.serial->with_model([host](Serial& uart) { uart.set_rx_drained_listener([host] { host->input_space(); }); });
    TRY(vmm.devices.pio_bus().insert(layout::COM1_PORT, layout::COM_PORT_COUNT, vmm.serial));

    auto i8042 = std::make_shared<ByteRegisterDevice<I8042>>("i8042", [&lifecycle] {
        lifecycle.request_stop(exit_status::GUEST_ENDED, "guest reset through the i8042");
    });
    TRY(vmm.devices.pio_bus().insert(layout::I8042_DATA_PORT,
                           layout::I8042_COMMAND_PORT - layout::I8042_DATA_PORT + 1, i8042));

    auto power = std::make_shared<ByteRegisterDevice<AcpiPower>>(
        "acpi-power", x86::SLEEP_TYPE_S5, layout::ACPI_RESET_VALUE,
        [&lifecycle] { lifecycle.request_stop(exit_status::GUEST_ENDED, "guest powered off (ACPI S5)"); },
        [&lifecycle] { lifecycle.request_stop(exit_status::GUEST_ENDED, "guest reset through the ACPI reset register"); });
    TRY(vmm.devices.pio_bus().insert(layout::ACPI_PM_PORT, layout::ACPI_PM_PORT_COUNT, power));

    // Only on request: otherwise a guest could choose Ember's exit status.
    if (config.debug_exit) {
        auto debug_exit = std::make_shared<DebugExit>([&lifecycle](int code) {
            lifecycle.request_stop(code, fmt::format("guest wrote to the debug-exit port"));
        });
        TRY(vmm.devices.pio_bus().insert(layout::DEBUG_EXIT_PORT, layout::DEBUG_EXIT_PORT_COUNT, debug_exit));
    }

    const uint64_t below_4g = x86::low_ram_end(config.memory);
    auto cmos = std::make_shared<ByteRegisterDevice<Cmos>>(
        "cmos", [] { return std::time(nullptr); }, below_4g, config.memory - below_4g);
    TRY(vmm.devices.pio_bus().insert(layout::CMOS_PORT, layout::CMOS_PORT_COUNT, cmos));
    TRY(vmm.devices.pio_bus().insert(layout::POST_CODE_PORT, 1, std::make_shared<PostCode>()));
    return {};
}

Status configure_vcpu(Vcpu& vcpu, const x86::CpuidEntries& base_cpuid, uint32_t vcpu_count,
                      const std::vector<uint32_t>& msr_list) {
    auto cpuid = base_cpuid;
    x86::set_vcpu_topology(cpuid, vcpu.id(), vcpu_count);
    TRY(vcpu.set_cpuid(cpuid));
    const kvm_cpuid_entry2* leaf1 = cpuid.find(1, 0);
    const bool mtrr = leaf1 && (leaf1->edx & (1u << 12));  // CPUID.1:EDX.MTRR
    TRY(vcpu.set_msrs(x86::boot_msrs(msr_list, mtrr)));
    TRY(vcpu.set_fpu(x86::boot_fpu()));
    TRY(vcpu.set_lapic(x86::with_lint_wiring(TRY(vcpu.get_lapic()))));
    return {};
}

Status create_vcpus(Vmm& vmm, const VmConfig& config, const boot::BootEntry& entry) {
    auto cpuid = TRY(vmm.kvm->supported_cpuid());
    x86::apply_cpu_template(cpuid, config.cpu_template);
    const auto msr_list = TRY(vmm.kvm->msr_index_list());
    vmm.msr_indices = msr_list;
    for (uint32_t id = 0; id < config.cpus; ++id) {
        Vcpu vcpu = TRY(vmm.vm->create_vcpu(id));
        TRY_CTX(configure_vcpu(vcpu, cpuid, config.cpus, msr_list), fmt::format("vCPU {}", id));
        vmm.vcpus.push_back(std::move(vcpu));
    }
    // Only the boot processor gets registers; the others wait for INIT/SIPI from the guest.
    Vcpu& bsp = vmm.vcpus.front();
    TRY(bsp.set_sregs(x86::boot_sregs(TRY(bsp.get_sregs()), cpu_mode(entry.mode))));
    TRY(bsp.set_regs(x86::boot_regs(cpu_mode(entry.mode), entry.entry, entry.boot_info)));
    return {};
}

}  // namespace

Result<std::unique_ptr<Vmm>> build_vmm(const VmConfig& given) {
    VmConfig config = given;
    config.name_devices();
    TRY(config.validate(host_memory_bytes()));
    const BootFiles files = TRY(read_boot_files(config));
    auto disks = TRY(open_disks(config));
    auto nets = TRY(open_net_backends(config));
    auto cmdline = TRY(boot::KernelCmdline::create(config.cmdline.value_or(
        std::string(boot::KernelCmdline::DEFAULT))));
    auto vmm = std::make_unique<Vmm>();
    TRY(open_kvm(*vmm, config));
    TRY(create_vm(*vmm));
    TRY(create_guest_memory(*vmm, config.memory));
    TRY(create_interrupt_controller(*vmm, config));
    TRY(attach_legacy_devices(*vmm, config));
    TRY(attach_block_devices(*vmm, config, std::move(disks)));
    TRY(attach_net_devices(*vmm, config, std::move(nets)));
    TRY(attach_rng_device(*vmm, config));
    TRY(attach_console_device(*vmm, config));
    const auto loaded = TRY(load_kernel(*vmm, config, files, cmdline));
    TRY(create_vcpus(*vmm, config, loaded.entry));
    // Last: a failed build creates no file.
    TRY(vmm->serial_host->open_output());
    if (vmm->console_host)
        TRY(vmm->console_host->open_output());
    return vmm;
}

}  // namespace vmm
