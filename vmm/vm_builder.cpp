#include "vmm/vm_builder.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/memory_file.h"
#include "boot/image_file.h"
#include "boot/initramfs_dir.h"
#include "devices/virtio/block.h"
#include "devices/virtio/console.h"
#include "devices/virtio/net.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/rng.h"
#include "vmm/fs_devices.h"
#include "vmm/device_manager.h"
#include "vmm/device_state_codec.h"
#include "vmm/key_values.h"
#include "vmm/machine.h"
#include "vmm/machine_state_codec.h"
#include "vmm/net_devices.h"
#include "vmm/device_states.h"
#include "vmm/snapshot.h"
#include "vmm/uffd_backend.h"
#include "vmm/vsock_device.h"

namespace vmm {

namespace {

struct BootFiles {
    std::vector<uint8_t> kernel;
    std::vector<uint8_t> initrd;
};

Result<BootFiles> read_boot_files(const VmConfig& config, const Machine& machine) {
    BootFiles files;
    const uint64_t limit = machine.image_size_limit(config.memory);
    files.kernel = TRY(boot::read_image_file(config.kernel, "kernel", limit));
    if (!config.initramfs.empty())
        files.initrd = TRY(boot::read_image_file(config.initramfs, "initramfs", limit));
    else if (!config.initramfs_dir.empty())
        files.initrd = TRY(boot::pack_initramfs_dir(config.initramfs_dir, limit));
    return files;
}

Status open_kvm(VmParts& vmm, const VmConfig& config, const Machine& machine) {
    vmm.kvm = TRY(Kvm::open(config.kvm_device));
    for (const auto& [cap, name] : machine.required_capabilities())
        TRY(vmm.kvm->require_extension(cap, name));
    const int max_vcpus = TRY(vmm.kvm->check_extension(KVM_CAP_MAX_VCPUS));
    if (max_vcpus > 0 && config.cpus > static_cast<uint32_t>(max_vcpus))
        return Error(fmt::format("--cpus {}: this KVM allows at most {} vCPUs", config.cpus, max_vcpus));
    return {};
}

Status create_vm(VmParts& vmm) {
    vmm.vm = TRY(vmm.kvm->create_vm());
    vmm.lifecycle = TRY(Lifecycle::create());
    vmm.loop = TRY(EventLoop::create());
    return {};
}

// With --timeout: a timerfd on the event loop that stops the VM when it fires.
Status arm_timeout(VmParts& vmm, uint32_t seconds) {
    if (seconds == 0)
        return {};
    vmm.timeout_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!vmm.timeout_timer.valid())
        return Error::from_errno("timerfd_create");
    itimerspec when{};
    when.it_value.tv_sec = seconds;
    if (::timerfd_settime(vmm.timeout_timer.get(), 0, &when, nullptr) < 0)
        return Error::from_errno("timerfd_settime");
    Lifecycle& lifecycle = *vmm.lifecycle;
    return vmm.loop->add(vmm.timeout_timer.get(), EPOLLIN, [&lifecycle, seconds](uint32_t) {
        lifecycle.request_stop(exit_status::TIMEOUT, fmt::format("--timeout {} s ran out", seconds));
    });
}

// Guest RAM as KVM memory slots, one per region.
Status map_guest_memory(VmParts& vmm) {
    uint32_t slot = 0;
    for (const auto& region : vmm.memory->regions())
        TRY(vmm.vm->set_user_memory_region(slot++, region.gpa, region.size, region.host, vmm.memory->tracks_dirty()));
    return {};
}

// backend=file:PATH, opened (and for a new file, named only once the build succeeds).
Result<std::optional<MemoryFile>> open_memory_file(const VmConfig& config) {
    if (config.memory_backend.backend != MemoryConfig::Backend::File)
        return std::optional<MemoryFile>();
    return std::optional<MemoryFile>(TRY(MemoryFile::open(config.memory_backend.path, config.memory,
                                                          config.memory_backend.huge_pages == HugePages::Size2M)));
}

// Shared (a memfd or the memory file) when asked for or when a vhost-user backend must map
// it too, private otherwise.
Status create_guest_memory(VmParts& vmm, const VmConfig& config, const Machine& machine,
                           const std::optional<MemoryFile>& file) {
    const auto specs = machine.ram_regions(config.memory);
    const MemoryConfig& backend = config.memory_backend;
    MemoryOptions options{
        .backing = backend.shared(!config.filesystems.empty()) ? MemoryBacking::Shared : MemoryBacking::Private,
        .file = file ? TRY(file->share()) : UniqueFd(),
        .huge_pages = backend.huge_pages,
        .mergeable = backend.mergeable,
        .prefault = backend.prefault,
        .track_dirty = backend.track_dirty,
    };
    vmm.memory = TRY(GuestMemory::create(specs, std::move(options)));
    return map_guest_memory(vmm);
}

Result<std::vector<virtio::DiskFile>> open_disks(const VmConfig& config) {
    std::vector<virtio::DiskFile> disks;
    for (const auto& disk : config.disks) {
        const bool qcow2 = disk.format == DiskConfig::Format::Qcow2;
        disks.push_back(TRY(virtio::DiskFile::open(disk.path, disk.readonly, qcow2)));
        if (qcow2)
            continue;
        const auto magic = virtio::qcow2::starts_with_magic(disks.back());
        if (magic.ok() && magic.value())
            spdlog::warn("disk '{}' starts with the qcow2 magic but is used raw, as its bytes (format=raw is the "
                         "default and Ember never guesses); add format=qcow2 if it is an image",
                         disk.path);
    }
    return disks;
}

Status attach_block_devices(VmParts& vmm, const VmConfig& config, std::vector<virtio::DiskFile> disks) {
    for (size_t i = 0; i < disks.size(); ++i) {
        const DiskConfig& disk = config.disks[i];
        const virtio::BlockOptions options{
            disk.serial, disk.cache == DiskConfig::Cache::Writeback,
            disk.engine == DiskConfig::Engine::IoUring ? virtio::DiskEngineKind::IoUring
                                                       : virtio::DiskEngineKind::Sync,
            disk.format == DiskConfig::Format::Qcow2 ? virtio::DiskFormat::Qcow2 : virtio::DiskFormat::Raw,
            disk.num_queues};
        auto block = TRY_CTX(virtio::Block::create(std::move(disks[i]), *vmm.memory, options),
                             fmt::format("disk '{}'", disk.path));
        TRY(vmm.attach_virtio(disk.id, std::move(block)));
    }
    return {};
}

Status attach_rng_device(VmParts& vmm, const VmConfig& config) {
    if (!config.rng)
        return {};
    TRY(vmm.attach_virtio(VmConfig::RNG_ID, std::make_unique<virtio::Rng>(*vmm.memory, virtio::Rng::system_random)));
    return {};
}

Status attach_console_device(VmParts& vmm, const VmConfig& config) {
    if (config.console.mode == ConsoleConfig::Mode::Off)
        return {};
    vmm.console_host = std::make_unique<HostConsole>(config.console, "console");
    HostConsole* host = vmm.console_host.get();
    auto device = std::make_unique<virtio::Console>(
        *vmm.memory, [host](std::span<const uint8_t> bytes) { host->write(bytes); },
        [host] { host->input_space(); });
    virtio::Console* console = device.get();
    std::shared_ptr<virtio::VirtioTransport> transport = TRY(vmm.attach_virtio(VmConfig::CONSOLE_ID, std::move(device))).transport;
    vmm.console_input = [console, transport](std::span<const uint8_t> bytes) {
        const size_t accepted = console->enqueue_input(bytes);
        transport->notify(virtio::Console::RECEIVEQ);  // deliver into posted receive buffers
        return accepted;
    };
    return {};
}

// The RAM a state file's layout describes: the snapshot's memory file mapped privately, or
// (no file) fresh zeroed memory for a migration or a page fault handler to fill. Mapped
// MAP_PRIVATE, pages of the file load as the guest touches them and its writes never reach it.
Result<GuestMemory> restored_memory(const StateFile& file, const VmConfig& config, UniqueFd ram) {
    const auto specs = host_machine()->ram_regions(config.memory);
    StateDecoder layout(TRY(file.section(MEMORY_LAYOUT_TAG)), "the snapshot's memory layout");
    TRY(check_memory_layout(layout, specs));
    TRY(layout.finish());
    return GuestMemory::create(specs, {.backing = MemoryBacking::Private,
                                       .file = std::move(ram),
                                       .track_dirty = config.memory_backend.track_dirty});
}

// KVM's state, the platform devices' and each virtio transport's, from the snapshot, onto
// the VM rebuilt from its configuration (the same devices in the same order).
Status restore_states(VmParts& vmm, const StateFile& file) {
    const MachineState machine = TRY(decode_machine_state(file, static_cast<uint32_t>(vmm.vcpus.size())));
    if (machine.vcpus.size() != vmm.vcpus.size())
        return Error(fmt::format("the snapshot has state for {} vCPUs, its configuration {}", machine.vcpus.size(),
                                 vmm.vcpus.size()));
#if defined(__x86_64__)
    if (machine.vm.pit.has_value() != vmm.has_pit)
        return Error("the snapshot's PIT state does not match its configuration");
#endif
    TRY(restore_vm_state(*vmm.vm, machine.vm));
    for (size_t i = 0; i < vmm.vcpus.size(); ++i)
        TRY(restore_vcpu_state(vmm.vcpus[i], machine.vcpus[i]));
    for (const auto& platform : vmm.platform_states)
        TRY(platform.restore(TRY(file.section(platform.tag))));
    StateDecoder virtio(TRY(file.section(VIRTIO_TAG)), "the snapshot's virtio devices");
    const auto& slots = vmm.devices.virtio_slots();
    if (TRY(virtio.get<uint32_t>()) != slots.size())
        return Error(virtio.what() + ": the device count does not match its configuration");
    for (const auto& slot : slots) {
        const std::string id = TRY(virtio.get_string(MAX_DEVICE_ID, "a device id"));
        const uint32_t type = TRY(virtio.get<uint32_t>());
        if (id != slot.id || type != slot.transport->device().device_id())
            return Error(fmt::format("{}: device '{}' (type {}) where the configuration has '{}'", virtio.what(), id,
                                     type, slot.id));
        if (!slot.mmio)
            return Error(fmt::format("{}: device '{}' is not on virtio-mmio", virtio.what(), id));
        TRY_CTX(slot.mmio->restore(TRY(decode_mmio_transport_state(virtio))),
                fmt::format("the snapshot's device '{}'", id));
        TRY_CTX(restore_device_state(slot, TRY(virtio.get_vector(MAX_DEVICE_STATE, "a device's own state"))),
                fmt::format("the snapshot's device '{}'", id));
    }
    TRY(virtio.finish());
    // Requests the driver made available before the snapshot and no device took yet.
    for (const auto& slot : slots) {
        for (size_t queue = 0; queue < slot.notify_fds.size(); ++queue)
            slot.kick(queue);
    }
    return {};
}

}  // namespace

Result<VmConfig> restored_config(const StateFile& file, const VmConfig& base,
                                 const std::vector<NetworkOverride>& overrides) {
    StateDecoder config_in(TRY(file.section(CONFIG_TAG)), "the snapshot's configuration");
    VmConfig config = TRY(decode_config(config_in, base));
    TRY(config_in.finish());
    for (const NetworkOverride& o : overrides) {
        auto net = std::find_if(config.nets.begin(), config.nets.end(), [&o](const NetConfig& n) { return n.id == o.first; });
        if (net == config.nets.end())
            return Error(fmt::format("network_overrides: the snapshot has no network interface '{}'", o.first));
        net->tap = o.second;
    }
    config.name_devices();
    TRY(config.validate(host_memory_bytes(), false));
    return config;
}

Result<GuestMemory> fresh_memory_for(const StateFile& file, const VmConfig& config) {
    return restored_memory(file, config, UniqueFd());
}

Result<std::unique_ptr<Vmm>> assemble_restored(const StateFile& file, const VmConfig& config, GuestMemory memory,
                                               std::vector<UniqueFd> memory_handler) {
    const auto machine = host_machine();
    auto disks = TRY(open_disks(config));
    auto nets = TRY(open_net_backends(config));
    auto vsock_listener = TRY(open_vsock_listener(config, true));
    auto vmm = std::make_unique<VmParts>();
    TRY(open_kvm(*vmm, config, *machine));
    TRY(create_vm(*vmm));
    TRY(arm_timeout(*vmm, config.timeout_seconds));
    vmm->memory = std::move(memory);
    vmm->memory_handler = std::move(memory_handler);
    TRY(map_guest_memory(*vmm));
    TRY(machine->create_irqchip(*vmm, config));
    TRY(machine->attach_platform_devices(*vmm, config));
    TRY(attach_block_devices(*vmm, config, std::move(disks)));
    TRY(attach_net_devices(*vmm, config, std::move(nets)));
    TRY(attach_rng_device(*vmm, config));
    TRY(attach_console_device(*vmm, config));
    TRY(attach_vsock_device(*vmm, config, std::move(vsock_listener)));
    TRY(machine->create_vcpus(*vmm, config));
    TRY(restore_states(*vmm, file));
    vmm->config = config;
    TRY(vmm->serial_host->open_output());
    if (vmm->console_host)
        TRY(vmm->console_host->open_output());
    return std::make_unique<Vmm>(std::move(vmm));
}

Result<std::unique_ptr<Vmm>> restore_vmm(const std::string& state_path, const std::string& memory_path,
                                         const VmConfig& base, const std::vector<NetworkOverride>& overrides,
                                         bool from_uffd_handler) {
    const StateFile file = TRY(read_state_file(state_path));
    const VmConfig config = TRY(restored_config(file, base, overrides));
    if (from_uffd_handler) {
        // Untouched until the handler has it: every page then comes through the handler.
        GuestMemory memory = TRY(restored_memory(file, config, UniqueFd()));
        auto handler = TRY(hand_memory_to_uffd_handler(memory, memory_path));
        auto vmm = TRY(assemble_restored(file, config, std::move(memory), std::move(handler)));
        spdlog::info("restored snapshot '{}' ({} vCPUs, {} MiB), pages served by the handler at '{}'", state_path,
                     config.cpus, config.memory >> 20, memory_path);
        return vmm;
    }
    const std::string what = fmt::format("memory file '{}'", memory_path);
    SnapshotFile ram = TRY(open_snapshot_file(memory_path, what));
    if (ram.size != config.memory)
        return Error(fmt::format("{} is {} bytes; the snapshot's guest has {} bytes of RAM", what, ram.size, config.memory));
    auto vmm = TRY(assemble_restored(file, config, TRY(restored_memory(file, config, std::move(ram.fd)))));
    spdlog::info("restored snapshot '{}' ({} vCPUs, {} MiB)", state_path, config.cpus, config.memory >> 20);
    return vmm;
}

Result<std::unique_ptr<Vmm>> build_vmm(const VmConfig& given) {
    VmConfig config = given;
    config.name_devices();
    // Every NIC's address fixed here, so that a snapshot restores the one the guest knows.
    for (auto& net : config.nets) {
        if (!net.mac)
            net.mac = random_mac();
    }
    TRY(config.validate(host_memory_bytes()));
    const auto machine = host_machine();
    const BootFiles files = TRY(read_boot_files(config, *machine));
    auto memory_file = TRY(open_memory_file(config));
    auto disks = TRY(open_disks(config));
    auto nets = TRY(open_net_backends(config));
    auto filesystems = TRY(open_fs_backends(config));
    auto vsock_listener = TRY(open_vsock_listener(config));
    auto cmdline = TRY(boot::KernelCmdline::create(config.cmdline.value_or(
        std::string(boot::KernelCmdline::DEFAULT))));
    auto vmm = std::make_unique<VmParts>();
    TRY(open_kvm(*vmm, config, *machine));
    TRY(create_vm(*vmm));
    TRY(arm_timeout(*vmm, config.timeout_seconds));
    TRY(create_guest_memory(*vmm, config, *machine, memory_file));
    TRY(machine->create_irqchip(*vmm, config));
    TRY(machine->attach_platform_devices(*vmm, config));
    TRY(attach_block_devices(*vmm, config, std::move(disks)));
    TRY(attach_net_devices(*vmm, config, std::move(nets)));
    TRY(attach_rng_device(*vmm, config));
    TRY(attach_console_device(*vmm, config));
    TRY(attach_fs_devices(*vmm, config, std::move(filesystems)));
    TRY(attach_vsock_device(*vmm, config, std::move(vsock_listener)));
    TRY(machine->load_kernel(*vmm, config, files.kernel, files.initrd, cmdline));
    TRY(machine->create_vcpus(*vmm, config));
    // Last: a failed build creates no file.
    if (memory_file)
        TRY(memory_file->publish());
    TRY(vmm->serial_host->open_output());
    if (vmm->console_host)
        TRY(vmm->console_host->open_output());
    vmm->config = config;
    return std::make_unique<Vmm>(std::move(vmm));
}

}  // namespace vmm
