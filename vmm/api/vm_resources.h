// The VM as Firecracker's API and config file describe it before boot: boot source, machine
// config, drives and network interfaces by id, entropy. Requests and config-file sections are
// applied here, each checked as it comes (a refused one changes nothing), and vm_config() turns
// the whole into the VmConfig the builder validates once more, as for the command line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/api/json_fields.h"
#include "vmm/vm_config.h"

namespace vmm::api {

class VmResources {
public:
    // `base`: what the command line gave (consoles, PIT, KVM device, even a kernel).
    explicit VmResources(VmConfig base);

    Status put_boot_source(const Json& body);
    Status put_machine_config(const Json& body);
    Status patch_machine_config(const Json& body);
    Status put_drive(std::string_view id, const Json& body);
    Status put_network_interface(std::string_view id, const Json& body);
    Status put_entropy(const Json& body);
    Status put_vsock(const Json& body);
    // After boot, PATCH /drives/{id} (Firecracker's PartialDrive): the checked body's new
    // path_on_host, if it names one; drive_moved() records it once the device took it.
    Result<std::optional<std::string>> check_drive_patch(std::string_view id, const Json& body) const;
    void drive_moved(std::string_view id, std::string path);
    // After boot, PATCH /network-interfaces/{id} (PartialNetworkInterface): only rate limiters
    // that limit nothing are accepted, and nothing changes.
    Status check_network_interface_patch(std::string_view id, const Json& body) const;
    // A --config-file document (FullVmConfiguration): every section above, "logger" and
    // "metrics" left to the caller (their effects are not the VM's).
    Status apply_document(const Json& document);

    Json machine_config() const;
    // GET /vm/config: the FullVmConfiguration these resources make.
    Json full_config() const;
    // The VM to build, root device first and named on the command line as Firecracker does.
    VmConfig vm_config() const;

private:
    struct Drive {
        DiskConfig disk;
        bool root = false;
        std::optional<std::string> partuuid;
    };
    Status set_machine(const Json& body, bool partial);
    const Drive* find_drive(std::string_view id) const;  // null when there is none
    Drive* find_drive(std::string_view id);

    VmConfig m_config;  // disks stay in m_drives until vm_config()
    std::vector<Drive> m_drives;
};

}  // namespace vmm::api
