#include "vmm/api/vm_resources.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "vmm/host_layout.h"
#include "boot/cmdline.h"
#include "vmm/key_values.h"

namespace vmm::api {

namespace {

// machine-config's huge_pages, as Firecracker spells it.
const char* huge_pages_name(HugePages huge) {
    switch (huge) {
    case HugePages::Size2M: return "2M";
    case HugePages::Transparent: return "Transparent";
    case HugePages::None: break;
    }
    return "None";
}

// Firecracker's RateLimiter: accepted when it limits nothing (clients send empty buckets);
// Ember has no per-device limiter yet, so a real limit is refused rather than ignored.
Status check_rate_limiter(const JsonFields& fields, std::string_view key) {
    auto limiter = TRY(fields.object_field(key));
    if (!limiter)
        return {};
    auto buckets = TRY(JsonFields::of(*limiter, key, {"bandwidth", "ops"}));
    for (auto bucket : {"bandwidth", "ops"}) {
        auto value = TRY(buckets.object_field(bucket));
        if (!value)
            continue;
        auto b = TRY(JsonFields::of(*value, fmt::format("{}.{}", key, bucket), {"size", "one_time_burst", "refill_time"}));
        if (TRY(b.integer("size", 0, INT64_MAX)).value_or(0) != 0)
            return Error(fmt::format("{}: rate limiting is not supported yet", key));
    }
    return {};
}

// Each drive and NIC takes a virtio slot: refused at the PUT once they are all taken, so that a
// client cannot grow the pending configuration without bound.
Status check_room(size_t devices, std::string_view what) {
    const size_t slots = std::size(host_layout::VIRTIO_IRQS);
    if (devices >= slots)
        return Error(fmt::format("{}: every one of the {} virtio device slots is taken", what, slots));
    return {};
}

// The body's id field (`key`): present, the path's `id`, and a valid device id.
Status check_id(const JsonFields& fields, std::string_view key, std::string_view id, std::string_view what) {
    auto field = TRY(fields.string(key));
    if (!field)
        return fields.missing(key);
    const std::string& body_id = *field;
    if (id != body_id)
        return Error(fmt::format("{}: the id in the path ('{}') is not the one in the body ('{}')", what, id, body_id));
    if (!valid_device_id(id))
        return Error(fmt::format("{}: id '{}' is not 1 to {} of A-Z a-z 0-9 _ - .", what, id, MAX_DEVICE_ID));
    return {};
}

}  // namespace

VmResources::VmResources(VmConfig base) : m_config(std::move(base)) {
    for (auto& disk : m_config.disks)
        m_drives.push_back({std::move(disk), false, std::nullopt});
    m_config.disks.clear();
}

Status VmResources::put_boot_source(const Json& body) {
    auto fields = TRY(JsonFields::of(body, "boot-source", {"kernel_image_path", "boot_args", "initrd_path"}));
    auto kernel = TRY(fields.string("kernel_image_path"));
    if (!kernel || kernel->empty())
        return fields.missing("kernel_image_path");
    auto initrd = TRY(fields.string("initrd_path"));
    auto args = TRY(fields.string("boot_args"));
    for (const std::string* path : {&*kernel, initrd ? &*initrd : nullptr}) {
        if (path && ::access(path->c_str(), R_OK) != 0)
            return Error::from_errno(fmt::format("boot-source: '{}'", *path));
    }
    m_config.kernel = *kernel;
    m_config.initramfs = initrd.value_or("");
    m_config.cmdline = args;
    return {};
}

Status VmResources::set_machine(const Json& body, bool partial) {
    auto f = TRY(JsonFields::of(body, "machine-config", {"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages",
                                                         "cpu_template", "huge_pages"}));
    VmConfig candidate = m_config;
    auto cpus = TRY(f.integer("vcpu_count", 1, host_layout::MAX_VCPUS));
    auto mib = TRY(f.integer("mem_size_mib", 1, UINT64_MAX >> 20));
    if (!partial && !cpus)
        return f.missing("vcpu_count");
    if (!partial && !mib)
        return f.missing("mem_size_mib");
    if (TRY(f.boolean("smt")).value_or(false))
        return Error("machine-config: smt is not supported");
    auto track_dirty = TRY(f.boolean("track_dirty_pages"));
    if (track_dirty || !partial)  // a PUT without it means false
        candidate.memory_backend.track_dirty = track_dirty.value_or(false);
    auto tmpl = TRY(f.one_of("cpu_template", {"None", "C3", "T2", "T2S", "T2CL", "T2A", "V1N1"}));
    if (tmpl && *tmpl != "None")
        return Error(fmt::format("machine-config: cpu_template \"{}\" is not supported (only \"None\")", *tmpl));
    auto huge = TRY(f.one_of("huge_pages", {"None", "Transparent", "2M"}));
    if (huge || !partial)  // a PUT without huge_pages means "None"
        candidate.memory_backend.huge_pages = !huge ? HugePages::None : *huge == "2M" ? HugePages::Size2M
                                              : *huge == "Transparent" ? HugePages::Transparent : HugePages::None;
    if (cpus)
        candidate.cpus = static_cast<uint32_t>(*cpus);
    if (mib)
        candidate.memory = *mib << 20;
    TRY(candidate.validate_machine(host_memory_bytes()));
    m_config = std::move(candidate);
    return {};
}

Status VmResources::put_machine_config(const Json& body) { return set_machine(body, false); }
Status VmResources::patch_machine_config(const Json& body) { return set_machine(body, true); }

Status VmResources::put_drive(std::string_view id, const Json& body) {
    auto f = TRY(JsonFields::of(body, "drive", {"drive_id", "path_on_host", "is_root_device", "is_read_only",
                                                "partuuid", "cache_type", "io_engine", "rate_limiter", "socket",
                                                "serial"}));
    TRY(check_id(f, "drive_id", id, "drive"));
    if (f.has("socket"))
        return Error("drive: vhost-user block devices (socket) are not supported yet");
    auto root = TRY(f.boolean("is_root_device"));
    if (!root)
        return f.missing("is_root_device");
    auto path = TRY(f.string("path_on_host"));
    if (!path || path->empty())
        return f.missing("path_on_host");
    Drive drive;
    drive.root = *root;
    drive.partuuid = TRY(f.string("partuuid"));
    drive.disk.id = std::string(id);
    drive.disk.path = *path;
    drive.disk.readonly = TRY(f.boolean("is_read_only")).value_or(false);
    drive.disk.cache = TRY(f.one_of("cache_type", {"Unsafe", "Writeback"})).value_or("Unsafe") == "Writeback"
                           ? DiskConfig::Cache::Writeback
                           : DiskConfig::Cache::Unsafe;
    drive.disk.engine = TRY(f.one_of("io_engine", {"Sync", "Async"})).value_or("Sync") == "Async"
                            ? DiskConfig::Engine::IoUring
                            : DiskConfig::Engine::Sync;
    drive.disk.serial = TRY(f.string("serial")).value_or("");
    if (drive.disk.serial.size() > 20)
        return Error("drive: serial is longer than 20 bytes");
    TRY(check_rate_limiter(f, "rate_limiter"));
    if (::access(path->c_str(), drive.disk.readonly ? R_OK : R_OK | W_OK) != 0)
        return Error::from_errno(fmt::format("drive '{}': '{}'", id, *path));
    Drive* same = find_drive(id);
    if (drive.root && std::any_of(m_drives.begin(), m_drives.end(),
                                  [&](const Drive& d) { return d.root && d.disk.id != id; }))
        return Error("drive: a root block device already exists");
    if (same) {
        *same = std::move(drive);
    } else {
        TRY(check_room(m_drives.size() + m_config.nets.size(), "drive"));
        m_drives.push_back(std::move(drive));
    }
    return {};
}

const VmResources::Drive* VmResources::find_drive(std::string_view id) const {
    auto it = std::find_if(m_drives.begin(), m_drives.end(), [&](const Drive& d) { return d.disk.id == id; });
    return it == m_drives.end() ? nullptr : &*it;
}

VmResources::Drive* VmResources::find_drive(std::string_view id) {
    return const_cast<Drive*>(std::as_const(*this).find_drive(id));
}

Result<std::optional<std::string>> VmResources::check_drive_patch(std::string_view id, const Json& body) const {
    auto f = TRY(JsonFields::of(body, "drive", {"drive_id", "path_on_host", "rate_limiter"}));
    TRY(check_id(f, "drive_id", id, "drive"));
    const Drive* existing = find_drive(id);
    if (!existing)
        return Error(ErrorKind::NotFound, fmt::format("drive '{}' does not exist", id));
    TRY(check_rate_limiter(f, "rate_limiter"));
    auto path = TRY(f.string("path_on_host"));
    if (path && path->empty())
        return f.missing("path_on_host");
    if (path && ::access(path->c_str(), existing->disk.readonly ? R_OK : R_OK | W_OK) != 0)
        return Error::from_errno(fmt::format("drive '{}': '{}'", id, *path));
    return path;
}

void VmResources::drive_moved(std::string_view id, std::string path) {
    if (Drive* moved = find_drive(id))
        moved->disk.path = std::move(path);
}

Status VmResources::check_network_interface_patch(std::string_view id, const Json& body) const {
    auto f = TRY(JsonFields::of(body, "network-interface", {"iface_id", "rx_rate_limiter", "tx_rate_limiter"}));
    TRY(check_id(f, "iface_id", id, "network interface"));
    if (std::none_of(m_config.nets.begin(), m_config.nets.end(), [&](const NetConfig& n) { return n.id == id; }))
        return Error(ErrorKind::NotFound, fmt::format("network interface '{}' does not exist", id));
    TRY(check_rate_limiter(f, "rx_rate_limiter"));
    return check_rate_limiter(f, "tx_rate_limiter");
}

Status VmResources::put_network_interface(std::string_view id, const Json& body) {
    auto f = TRY(JsonFields::of(body, "network-interface", {"iface_id", "host_dev_name", "guest_mac", "mtu",
                                                            "rx_rate_limiter", "tx_rate_limiter", "num_queues"}));
    TRY(check_id(f, "iface_id", id, "network-interface"));
    auto tap = TRY(f.string("host_dev_name"));
    if (!tap || tap->empty())
        return f.missing("host_dev_name");
    if (f.has("mtu"))
        return Error("network-interface: mtu is not supported yet");
    TRY(check_rate_limiter(f, "rx_rate_limiter"));
    TRY(check_rate_limiter(f, "tx_rate_limiter"));
    NetConfig net;
    net.id = std::string(id);
    net.tap = *tap;
    if (auto mac = TRY(f.string("guest_mac")))
        net.mac = TRY(parse_mac(*mac));
    net.queues = static_cast<uint32_t>(TRY(f.integer("num_queues", 1, 16)).value_or(1));
    auto nets = m_config.nets;
    auto same = std::find_if(nets.begin(), nets.end(), [&](const NetConfig& n) { return n.id == id; });
    if (same != nets.end()) {
        *same = net;
    } else {
        TRY(check_room(m_drives.size() + nets.size(), "network-interface"));
        nets.push_back(net);
    }
    TRY(validate_nets(nets));
    m_config.nets = std::move(nets);
    return {};
}

Status VmResources::put_entropy(const Json& body) {
    auto f = TRY(JsonFields::of(body, "entropy", {"rate_limiter"}));
    TRY(check_rate_limiter(f, "rate_limiter"));
    m_config.rng = true;
    return {};
}

// Firecracker's Vsock: guest_cid and uds_path; vsock_id is deprecated there and only kept.
Status VmResources::put_vsock(const Json& body) {
    auto f = TRY(JsonFields::of(body, "vsock", {"guest_cid", "uds_path", "vsock_id"}));
    auto cid = TRY(f.integer("guest_cid", 0, UINT64_MAX));
    if (!cid)
        return f.missing("guest_cid");
    auto path = TRY(f.string("uds_path"));
    if (!path)
        return f.missing("uds_path");
    VsockConfig vsock;
    vsock.cid = *cid;
    vsock.uds_path = *path;
    if (auto id = TRY(f.string("vsock_id"))) {
        if (!valid_device_id(*id))
            return Error(fmt::format("vsock: vsock_id '{}' is not 1 to {} of A-Z a-z 0-9 _ - .", *id, MAX_DEVICE_ID));
        vsock.id = *id;
    }
    TRY(validate_vsock(vsock));
    if (!m_config.vsock)
        TRY(check_room(m_drives.size() + m_config.nets.size(), "vsock"));
    m_config.vsock = vsock;
    return {};
}

Status VmResources::apply_document(const Json& document) {
    auto f = TRY(JsonFields::of(document, "config file",
                                {"boot-source", "machine-config", "drives", "network-interfaces", "entropy", "logger",
                                 "metrics", "balloon", "vsock", "mmds-config", "cpu-config", "memory-hotplug",
                                 "pmem", "serial"}));
    for (auto unsupported : {"balloon", "mmds-config", "cpu-config", "memory-hotplug", "pmem", "serial"}) {
        if (f.object(unsupported))
            return Error(fmt::format("config file: \"{}\" is not supported yet", unsupported));
    }
    auto boot = f.object("boot-source");
    if (!boot)
        return f.missing("boot-source");
    TRY(put_boot_source(*boot));
    if (auto machine = f.object("machine-config"))
        TRY(put_machine_config(*machine));
    for (auto [key, id_key, is_drive] : {std::tuple{"drives", "drive_id", true},
                                         std::tuple{"network-interfaces", "iface_id", false}}) {
        auto list = f.object(key);
        if (!list)
            continue;
        if (!list->is_array())
            return Error(fmt::format("config file: \"{}\" must be an array", key));
        for (const auto& item : *list) {
            const auto id = item.is_object() && item.contains(id_key) && item[id_key].is_string()
                                ? item[id_key].get<std::string>()
                                : std::string();
            TRY(is_drive ? put_drive(id, item) : put_network_interface(id, item));
        }
    }
    if (auto entropy = f.object("entropy"))
        TRY(put_entropy(*entropy));
    if (auto vsock = f.object("vsock"))
        TRY(put_vsock(*vsock));
    return {};
}

Json VmResources::machine_config() const {
    return {{"vcpu_count", m_config.cpus}, {"mem_size_mib", m_config.memory >> 20}, {"smt", false},
            {"track_dirty_pages", m_config.memory_backend.track_dirty}, {"huge_pages", huge_pages_name(m_config.memory_backend.huge_pages)}};
}

Json VmResources::full_config() const {
    Json config = Json::object();
    if (!m_config.kernel.empty()) {
        Json boot = {{"kernel_image_path", m_config.kernel}};
        if (!m_config.initramfs.empty())
            boot["initrd_path"] = m_config.initramfs;
        if (m_config.cmdline)
            boot["boot_args"] = *m_config.cmdline;
        config["boot-source"] = boot;
    }
    config["machine-config"] = machine_config();
    config["drives"] = Json::array();
    for (const auto& d : m_drives) {
        Json drive = {{"drive_id", d.disk.id},
                      {"path_on_host", d.disk.path},
                      {"is_root_device", d.root},
                      {"is_read_only", d.disk.readonly},
                      {"cache_type", d.disk.cache == DiskConfig::Cache::Writeback ? "Writeback" : "Unsafe"},
                      {"io_engine", d.disk.engine == DiskConfig::Engine::IoUring ? "Async" : "Sync"}};
        if (d.partuuid)
            drive["partuuid"] = *d.partuuid;
        config["drives"].push_back(drive);
    }
    config["network-interfaces"] = Json::array();
    for (const auto& n : m_config.nets) {
        Json nic = {{"iface_id", n.id}, {"host_dev_name", n.tap}};
        if (n.mac)
            nic["guest_mac"] = format_mac(*n.mac);
        config["network-interfaces"].push_back(nic);
    }
    if (m_config.rng)
        config["entropy"] = Json::object();
    if (m_config.vsock)
        config["vsock"] = {{"guest_cid", m_config.vsock->cid}, {"uds_path", m_config.vsock->uds_path},
                           {"vsock_id", m_config.vsock->id}};
    return config;
}

VmConfig VmResources::vm_config() const {
    VmConfig config = m_config;
    std::vector<const Drive*> order;
    for (const auto& d : m_drives)
        if (d.root)
            order.push_back(&d);
    for (const auto& d : m_drives)
        if (!d.root)
            order.push_back(&d);
    for (const Drive* d : order)
        config.disks.push_back(d->disk);
    if (!order.empty() && order.front()->root) {
        // As Firecracker: the root device is the first disk (/dev/vda), named by PARTUUID if given.
        const Drive& root = *order.front();
        std::string cmdline(config.cmdline.value_or(std::string(boot::KernelCmdline::DEFAULT)));
        cmdline += root.partuuid ? fmt::format(" root=PARTUUID={}", *root.partuuid) : std::string(" root=/dev/vda");
        cmdline += root.disk.readonly ? " ro" : " rw";
        config.cmdline = cmdline;
    }
    return config;
}

}  // namespace vmm::api
