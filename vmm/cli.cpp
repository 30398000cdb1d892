#include "vmm/cli.h"

#include <charconv>
#include <optional>
#include <tuple>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vmm/cli_parse.h"
#include "vmm/lifecycle.h"
#include "vmm/migration.h"

namespace vmm {

namespace {

constexpr const char* EXAMPLES = R"(Examples:
  ember --kernel bzImage --initramfs initrd.cpio --cmdline "console=ttyS0 reboot=k" --cpus 2 --memory 256M
  ember --kernel vmlinux.pvh --serial file=/tmp/console.log --memory 1G
  ember --kernel bzImage --disk path=rootfs.img --disk path=data.img,readonly=on,serial=data0
  ember --kernel bzImage --net tap=tap0,ip=10.0.0.1,mask=255.255.255.0
  ember --kernel bzImage --vsock cid=3,uds=/run/vm0.vsock
  ember --kernel tests/guest.bzImage --cpu-template baseline --log-level info
  ember --api-sock /tmp/ember.sock            (then configure and start it with Firecracker's API)
  ember --config-file vm.json                 (Firecracker's JSON: boot-source, machine-config, ...)

Exit status: 0 when the guest resets or powers off; (v << 1) | 1 when it writes v to the
debug-exit port 0xf4 (with --debug-exit); 2 bad input, or a file or device not found or not
allowed; 4 triple fault; 6 KVM error; 8 VMM error; 10 a disk or TAP is held by someone else;
12 the host is out of a resource (memory, fds, KVM); 14 --timeout ran out; 128 + N when
stopped by signal N.)";

// Each text of a repeatable device option (--disk, --net, --fs) parsed into `out`; the first
// error's message, if any.
template <typename Config, typename Parse>
std::optional<std::string> parse_each(const std::vector<std::string>& texts, Parse parse, std::vector<Config>& out) {
    for (const auto& text : texts) {
        auto parsed = parse(text);
        if (!parsed.ok())
            return parsed.error().message();
        out.push_back(std::move(parsed).value());
    }
    return std::nullopt;
}

int usage_error(const std::string& message) {
    fmt::print(stderr, "ember: error: {}\n", message);
    return exit_status::USAGE;
}

}  // namespace

std::variant<CliOptions, int> parse_cli(int argc, char** argv) {
    CliOptions options;
    VmConfig& config = options.config;
    std::string cmdline, memory = "256M", serial = "tty", console = "off", cpu_template = "host", transport = "mmio";
    bool cmdline_given = false;

    CLI::App app{"Ember: a lightweight KVM virtual machine monitor", "ember"};
    app.footer(EXAMPLES);
    app.set_version_flag("--version", "ember 0.1.0");
    app.add_option("--kernel", config.kernel,
                   "Kernel image: bzImage, vmlinux ELF or PVH ELF (required without --config-file/--api-sock)");
    app.add_option("--initramfs", config.initramfs, "Initramfs (initrd) image");
    app.add_option("--initramfs-dir", config.initramfs_dir,
                   "A directory packed as the initramfs (newc cpio, owned by root) at start");
    app.add_option_function<std::string>(
           "--cmdline", [&](const std::string& v) { cmdline = v; cmdline_given = true; },
           "Kernel command line (default: \"console=ttyS0 reboot=k panic=1\")");
    app.add_option("--cpus", config.cpus, "Number of vCPUs (1..254)")->capture_default_str();
    app.add_option("--memory", memory,
                   "Guest RAM: SIZE (256M, 1G, ...; bare number: MiB) or [size=SIZE][,backend=anon|memfd|file:PATH]"
                   "[,hugepages=none|2M|transparent][,mergeable=on|off][,prefault=on|off][,track_dirty_pages=on|off]")
        ->capture_default_str();
    std::vector<std::string> disks;
    app.add_option("--disk", disks,
                   "virtio-blk disk, repeatable: [id=ID,]path=PATH[,readonly=on][,serial=ID]"
                   "[,cache=writeback|unsafe][,engine=sync|io_uring][,format=raw|qcow2][,num_queues=N]")
        ->expected(1)
        ->take_all();
    std::vector<std::string> nets;
    app.add_option("--net", nets,
                   "virtio-net on a TAP, repeatable: [id=ID,]tap=NAME[,mac=MAC][,ip=A.B.C.D[,mask=A.B.C.D]]"
                   "[,num_queues=N] | [id=ID,]fd=N[,mac=MAC]")
        ->expected(1)
        ->take_all();
    std::vector<std::string> filesystems;
    app.add_option("--fs", filesystems,
                   "virtio-fs over vhost-user, repeatable: [id=ID,]tag=TAG,socket=PATH (a running virtiofsd) | "
                   "[id=ID,]tag=TAG,dir=DIR[,readonly=on] (Ember runs virtiofsd)")
        ->expected(1)
        ->take_all();
    std::string vsock;
    app.add_option("--vsock", vsock,
                   "virtio-vsock: cid=N,uds=PATH[,id=ID] (the host connects to PATH and writes \"CONNECT <port>\\n\"; "
                   "guest connections to port P reach PATH_P)");
    std::string rng = "on";
    app.add_option("--rng", rng, "virtio-rng device backed by getrandom(): on | off")->capture_default_str();
    std::string pit = "on";
    app.add_option("--pit", pit, "in-kernel i8254 PIT, for guests without ACPI: on | off")->capture_default_str();
    app.add_flag("--debug-exit", config.debug_exit,
                 "isa-debug-exit port 0xf4 for test guests: a write of v exits with (v << 1) | 1");
    app.add_option("--transport", transport,
                   "virtio transport of every device: mmio (virtio-mmio, one IRQ each) | pci (PCIe, MSI-X)")
        ->capture_default_str();
    app.add_flag("--virtio-mmio-cmdline", config.virtio_mmio_cmdline,
                 "also announce virtio devices as virtio_mmio.device= (kernels without ACPI)");
    app.add_option("--serial", serial, "COM1 (ttyS0) output: tty | file=PATH | off")
        ->capture_default_str();
    app.add_option("--console", console, "virtio-console (hvc0): tty | file=PATH | off")
        ->capture_default_str();
    app.add_option("--cpu-template", cpu_template, "CPUID template: host | baseline (x86-64-v2)")
        ->capture_default_str();
    app.add_option("--log-level", options.log_level,
                   "trace | debug | info | warn | error | off")->capture_default_str();
    app.add_option("--kvm-device", config.kvm_device, "KVM device node")->capture_default_str();
    app.add_option("--timeout", config.timeout_seconds,
                   "stop the VM after this many seconds, exit status 14 (test runs that must end)")
        ->check([](const std::string& text) -> std::string {
            constexpr uint32_t YEAR = 86400u * 365;
            uint32_t seconds = 0;
            auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), seconds);
            if (err != std::errc() || end != text.data() + text.size() || seconds < 1 || seconds > YEAR)
                return fmt::format("'{}' is not a number of seconds (1..{})", text, YEAR);
            return {};
        });
    app.add_option("--api-sock", options.api.api_sock,
                   "Serve Firecracker's API on this UNIX socket; the VM boots on InstanceStart");
    app.add_option("--config-file", options.api.config_file,
                   "Boot from a Firecracker JSON configuration (boot-source, machine-config, drives, ...)");
    std::string restore;
    app.add_option("--restore", restore,
                   "Start from a snapshot: snapshot=PATH,memory=PATH[,resume=on|off][,track_dirty_pages=on|off] (resume=off needs --api-sock)");
    app.add_option("--migrate-from", options.api.migrate_from,
                   "Start empty and take a live-migrating VM from unix:PATH or tcp:HOST:PORT (the sender: PUT /migrate)");
    app.add_option("--snapshot-create", options.snapshot_create,
                   "With --api-sock of a running Ember: snapshot its VM (snapshot=PATH,memory=PATH[,type=full|diff]), "
                   "pausing and resuming it, then exit");
    app.add_option("--migrate-to", options.migrate_to,
                   "With --api-sock of a running Ember: move its VM live to unix:PATH or tcp:HOST:PORT, then exit");
    bool no_api = false;
    app.add_flag("--no-api", no_api, "No API socket (the default without --api-sock; for Firecracker's command lines)");
    app.add_flag("--no-seccomp", options.no_seccomp, "No seccomp filters (debugging only; warned at start)");
    app.add_option("--seccomp-filter", options.seccomp_filter,
                   "seccomp filters from a file compiled by Firecracker's seccompiler-bin (vmm, api, vcpu)");
    app.add_option("--id", options.api.id, "Instance id, reported by the API's GET /")->capture_default_str();
    // Firecracker's jailer passes its timings to the binary it starts; accepted, not used.
    uint64_t jailer_time_us = 0;
    for (const char* flag : {"--start-time-us", "--start-time-cpu-us", "--parent-cpu-time-us"})
        app.add_option(flag, jailer_time_us, "Firecracker jailer's timing (ignored)")->group("");

    if (auto status = parse_or_exit_status(app, argc, argv, "ember"))
        return *status;

    if (options.no_seccomp && !options.seccomp_filter.empty())
        return usage_error("--no-seccomp and --seccomp-filter exclude each other");
    if (no_api && !options.api.api_sock.empty())
        return usage_error("--no-api and --api-sock exclude each other");
    if (!restore.empty()) {
        auto request = api::parse_restore(restore);
        if (!request.ok())
            return usage_error(request.error().message());
        if (!options.api.config_file.empty() || !config.kernel.empty())
            return usage_error("--restore takes the VM from the snapshot: no --kernel or --config-file with it");
        if (!request->resume_vm && options.api.api_sock.empty())
            return usage_error("--restore resume=off leaves the VM paused: give --api-sock to resume it");
        options.api.restore = *request;
    }
    if (options.is_command()) {
        if (options.api.api_sock.empty())
            return usage_error("--snapshot-create and --migrate-to talk to a running Ember: give its --api-sock");
        if (!options.snapshot_create.empty() && !options.migrate_to.empty())
            return usage_error("--snapshot-create and --migrate-to exclude each other");
        if (!config.kernel.empty() || !options.api.config_file.empty() || !restore.empty() ||
            !options.api.migrate_from.empty())
            return usage_error("--snapshot-create and --migrate-to start no VM: no --kernel, --config-file, --restore "
                               "or --migrate-from with them");
        if (!options.migrate_to.empty()) {
            if (auto url = parse_migration_url(options.migrate_to); !url.ok())
                return usage_error(url.error().message());
        }
        return options;
    }
    if (!options.api.migrate_from.empty()) {
        if (auto url = parse_migration_url(options.api.migrate_from); !url.ok())
            return usage_error(url.error().message());
        if (!options.api.config_file.empty() || !config.kernel.empty() || options.api.restore)
            return usage_error("--migrate-from takes the VM from the sender: no --kernel, --config-file or --restore with it");
    }
    if (config.kernel.empty() && !options.uses_api())
        return usage_error("--kernel is required (or --config-file FILE, or --api-sock PATH)");
    if (cmdline_given)
        config.cmdline = cmdline;
    auto memory_config = parse_memory(memory, config.memory);
    if (!memory_config.ok())
        return usage_error(memory_config.error().message());
    config.memory_backend = *memory_config;
    auto serial_config = parse_console(serial, "serial");
    if (!serial_config.ok())
        return usage_error(serial_config.error().message());
    config.serial = *serial_config;
    auto console_config = parse_console(console, "console");
    if (!console_config.ok())
        return usage_error(console_config.error().message());
    config.console = *console_config;
    for (auto [flag, text, value] : {std::tuple{"--rng", &rng, &config.rng}, std::tuple{"--pit", &pit, &config.pit}}) {
        if (*text != "on" && *text != "off")
            return usage_error(fmt::format("{} '{}' is not one of on, off", flag, *text));
        *value = *text == "on";
    }
    if (transport != "mmio" && transport != "pci")
        return usage_error(fmt::format("--transport '{}' is not one of mmio, pci", transport));
    config.transport = transport == "pci" ? VmConfig::Transport::Pci : VmConfig::Transport::Mmio;
    if (auto error = parse_each(disks, parse_disk, config.disks))
        return usage_error(*error);
    if (auto error = parse_each(nets, parse_net, config.nets))
        return usage_error(*error);
    if (auto error = parse_each(filesystems, parse_fs, config.filesystems))
        return usage_error(*error);
    if (!vsock.empty()) {
        auto parsed = parse_vsock(vsock);
        if (!parsed.ok())
            return usage_error(parsed.error().message());
        config.vsock = *parsed;
    }
    config.name_devices();
    auto tmpl = arch::parse_cpu_template(cpu_template);
    if (!tmpl)
        return usage_error(fmt::format("--cpu-template '{}' is not one of host, baseline", cpu_template));
    config.cpu_template = *tmpl;
    return options;
}

}  // namespace vmm
