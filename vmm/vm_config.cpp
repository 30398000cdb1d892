#include "vmm/vm_config.h"

#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

#include "vmm/host_layout.h"
#include "devices/virtio/block.h"
#include "vmm/key_values.h"

namespace vmm {

namespace layout = host_layout;

namespace {

constexpr uint64_t PAGE = 4096;

}  // namespace

Result<ConsoleConfig> parse_console(std::string_view text, std::string_view flag) {
    if (text == "tty")
        return ConsoleConfig{ConsoleConfig::Mode::Tty, {}};
    if (text == "off")
        return ConsoleConfig{ConsoleConfig::Mode::Off, {}};
    if (text.starts_with("file=") && text.size() > 5)
        return ConsoleConfig{ConsoleConfig::Mode::File, std::string(text.substr(5))};
    return Error(fmt::format("{} '{}' is not one of tty, off, file=PATH", flag, text));
}

Result<DiskConfig> parse_disk(std::string_view text) {
    DiskConfig disk;
    const std::string where = fmt::format("--disk '{}'", text);
    for (const auto& [key, value] : TRY(split_key_values(text, where))) {
        if (key == "id" && valid_device_id(value)) {
            disk.id = value;
        } else if (key == "path" && !value.empty()) {
            disk.path = value;
        } else if (key == "readonly" && (value == "on" || value == "off")) {
            disk.readonly = value == "on";
        } else if (key == "serial" && value.size() <= 20) {
            disk.serial = value;
        } else if (key == "cache" && (value == "writeback" || value == "unsafe")) {
            disk.cache = value == "unsafe" ? DiskConfig::Cache::Unsafe : DiskConfig::Cache::Writeback;
        } else if (key == "engine" && (value == "sync" || value == "io_uring")) {
            disk.engine = value == "io_uring" ? DiskConfig::Engine::IoUring : DiskConfig::Engine::Sync;
        } else if (key == "format" && (value == "raw" || value == "qcow2")) {
            disk.format = value == "qcow2" ? DiskConfig::Format::Qcow2 : DiskConfig::Format::Raw;
        } else if (const auto queues = parse_number<uint16_t>(value);
                   key == "num_queues" && queues && *queues >= 1 && *queues <= virtio::blk::MAX_QUEUES) {
            disk.num_queues = *queues;
        } else {
            return Error(fmt::format("{}: bad '{}={}' (id=ID of at most {} of A-Z a-z 0-9 _ - ., path=PATH, "
                                     "readonly=on|off, serial=ID of at most 20 bytes, cache=writeback|unsafe, "
                                     "engine=sync|io_uring, format=raw|qcow2, num_queues=1..{})",
                                     where, key, value, MAX_DEVICE_ID, virtio::blk::MAX_QUEUES));
        }
    }
    if (disk.path.empty())
        return Error(where + ": path=PATH is required");
    return disk;
}

uint64_t host_memory_bytes() {
    return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void VmConfig::name_devices() {
    for (size_t i = 0; i < disks.size(); ++i) {
        if (disks[i].id.empty())
            disks[i].id = fmt::format("disk{}", i);
    }
    for (size_t i = 0; i < nets.size(); ++i) {
        if (nets[i].id.empty())
            nets[i].id = fmt::format("net{}", i);
    }
    for (size_t i = 0; i < filesystems.size(); ++i) {
        if (filesystems[i].id.empty())
            filesystems[i].id = fmt::format("fs{}", i);
    }
}

std::vector<std::string> VmConfig::device_ids() const {
    std::vector<std::string> ids;
    for (const auto& disk : disks)
        ids.push_back(disk.id);
    for (const auto& net : nets)
        ids.push_back(net.id);
    if (rng)
        ids.emplace_back(RNG_ID);
    if (console.mode != ConsoleConfig::Mode::Off)
        ids.emplace_back(CONSOLE_ID);
    for (const auto& fs : filesystems)
        ids.push_back(fs.id);
    if (vsock)
        ids.push_back(vsock->id);
    return ids;
}

Status VmConfig::validate_device_ids() const {
    const auto ids = device_ids();
    for (size_t i = 0; i < ids.size(); ++i) {
        if (!valid_device_id(ids[i]))
            return Error(fmt::format("device id '{}' is not 1 to {} of A-Z a-z 0-9 _ - .", ids[i], MAX_DEVICE_ID));
        for (size_t j = 0; j < i; ++j) {
            if (ids[i] == ids[j])
                return Error(fmt::format("device id '{}' is given twice", ids[i]));
        }
    }
    return {};
}

Status VmConfig::validate_machine(uint64_t host_memory) const {
    if (cpus < 1 || cpus > layout::MAX_VCPUS)
        return Error(fmt::format("--cpus {} is out of range (1..{})", cpus, layout::MAX_VCPUS));
    if (memory < layout::MIN_MEMORY)
        return Error(fmt::format("--memory {} MiB is too small (at least {} MiB)", memory >> 20,
                                 layout::MIN_MEMORY >> 20));
    if (memory > host_memory)
        return Error(fmt::format("--memory {} MiB is more than the host's {} MiB of RAM",
                                 memory >> 20, host_memory >> 20));
    if (memory % PAGE)
        return Error(fmt::format("--memory {} bytes is not a multiple of 4 KiB", memory));
    return validate_memory(memory_backend, memory, !filesystems.empty());
}

Status VmConfig::validate(uint64_t host_memory, bool needs_kernel) const {
    if (needs_kernel && kernel.empty())
        return Error("no kernel: --kernel, or the boot source's kernel_image_path, is required");
    TRY(validate_machine(host_memory));
    if (!initramfs.empty() && !initramfs_dir.empty())
        return Error("--initramfs and --initramfs-dir cannot both be given");
    if (serial.mode == ConsoleConfig::Mode::Tty && console.mode == ConsoleConfig::Mode::Tty)
        return Error("--serial tty and --console tty cannot share the terminal; set one to off or file=PATH");
    const size_t virtio_devices = device_ids().size();
    if (virtio_devices > std::size(layout::VIRTIO_IRQS))
        return Error(fmt::format("{} virtio devices is more than the {} Ember places", virtio_devices,
                                 std::size(layout::VIRTIO_IRQS)));
    TRY(validate_nets(nets));
    TRY(validate_filesystems(filesystems));
    if (vsock)
        TRY(validate_vsock(*vsock));
    TRY(validate_device_ids());
    return {};
}

}  // namespace vmm
