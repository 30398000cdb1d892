// Plain description of the VM to build, filled from the CLI (later also a config file or the
// API), with one validate() that all of them share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/cpu_template.h"
#include "vmm/fs_config.h"
#include "vmm/memory_config.h"
#include "vmm/net_config.h"
#include "vmm/vsock_config.h"
#include "base/result.h"

namespace vmm {

// Where a guest console (the serial port, virtio-console) meets the host.
struct ConsoleConfig {
    enum class Mode { Tty, File, Off };
    Mode mode = Mode::Tty;
    std::string path;  // Mode::File
};

struct DiskConfig {
    enum class Cache { Writeback, Unsafe };
    enum class Engine { Sync, IoUring };
    std::string id;  // id=, else disk0, disk1, ... (name_devices)
    std::string path;
    bool readonly = false;
    std::string serial;  // GET_ID, at most 20 bytes
    Cache cache = Cache::Writeback;
    Engine engine = Engine::Sync;
    enum class Format { Raw, Qcow2 };
    Format format = Format::Raw;  // never probed: a raw disk's contents are the guest's
    uint16_t num_queues = 1;      // virtio-blk request queues (VIRTIO_BLK_F_MQ when more than one)
};

struct VmConfig {
    std::string kernel;
    std::string initramfs;               // empty: none
    std::string initramfs_dir;           // --initramfs-dir: packed at build time instead
    std::optional<std::string> cmdline;  // nullopt: the default command line
    uint32_t cpus = 1;
    uint64_t memory = 256ull << 20;
    MemoryConfig memory_backend;  // --memory's backend=, hugepages=, mergeable=, prefault=
    ConsoleConfig serial;
    ConsoleConfig console{ConsoleConfig::Mode::Off, {}};  // virtio-console (hvc0)
    std::vector<DiskConfig> disks;
    std::vector<NetConfig> nets;
    std::vector<FsConfig> filesystems;  // --fs: virtio-fs over vhost-user (shared guest memory)
    bool rng = true;  // virtio-rng backed by getrandom()
    std::optional<VsockConfig> vsock;   // --vsock: virtio-vsock with its host side on UNIX sockets
    // The i8254 PIT. Linux with ACPI (Ember's FADT is hardware-reduced) never uses it; kernels
    // that boot from the MP table alone calibrate their timers with it. Off saves the kernel's
    // PIT teardown (~8 ms per VM on the development host).
    bool pit = true;
    // QEMU's isa-debug-exit at port 0xf4, for test guests: a guest write of v ends Ember with
    // (v << 1) | 1. Off by default, so that a guest cannot choose Ember's exit status.
    bool debug_exit = false;
    // Announce virtio devices with virtio_mmio.device= too, for kernels without ACPI (the DSDT
    // always describes them).
    bool virtio_mmio_cmdline = false;
    // How virtio devices reach the guest: virtio-mmio windows described in the DSDT, or
    // functions on a PCIe host bridge with MSI-X (--transport).
    enum class Transport { Mmio, Pci };
    Transport transport = Transport::Mmio;
    arch::CpuTemplate cpu_template = arch::CpuTemplate::Host;
    std::string kvm_device = "/dev/kvm";
    // --timeout: seconds from the VM's build to its stop with exit_status::TIMEOUT; 0: none.
    uint32_t timeout_seconds = 0;

    // host_memory: bytes of RAM on the host, the ceiling for `memory`.
    // Virtio devices are named: disks and NICs by their id= or disk0.., net0..; the rng and
    // the console by these.
    static constexpr const char* RNG_ID = "rng0";
    static constexpr const char* CONSOLE_ID = "console0";
    // Gives every disk, NIC and file system without an id= its default one (validate() wants them named).
    void name_devices();
    // Every virtio device's id, in the order the devices are placed (after name_devices()).
    std::vector<std::string> device_ids() const;

    // needs_kernel false: a restored snapshot, which boots nothing.
    Status validate(uint64_t host_memory, bool needs_kernel = true) const;
    // The vCPU count and memory alone (part of validate(), for the API's machine-config).
    Status validate_machine(uint64_t host_memory) const;

private:
    Status validate_device_ids() const;
};

// "path=PATH[,readonly=on|off][,serial=ID][,cache=writeback|unsafe][,engine=sync|io_uring]".
Result<DiskConfig> parse_disk(std::string_view text);

// "tty", "off", "file=PATH"; `flag` names the option in the error ("serial", "console").
Result<ConsoleConfig> parse_console(std::string_view text, std::string_view flag);

uint64_t host_memory_bytes();

}  // namespace vmm
