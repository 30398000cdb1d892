// The jail: <chroot base>/<exec name>/<id>/root with a copy of the (static) binary and the
// device nodes Ember opens, owned by the target user; entered by pivot_root in a new mount
// namespace; what the jailer made removed after Ember has ended (the folder's other
// contents, put there by whoever drives the jailer, stay).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "vmm/jailer/jail_options.h"

namespace vmm::jailer {

// A regular, executable, statically linked ELF file (the jail holds no loader or libraries).
Status check_exec_file(const std::string& path);

class JailRoot {
public:
    // Checks the exec file and the file system the jail would sit on; creates nothing.
    static Result<JailRoot> plan(const JailOptions& options);

    // The binary's copy, when a jail with this id was built and not taken down; else empty.
    std::string existing() const;
    // Folders, the binary, /dev/kvm, /dev/net/tun, /dev/urandom; removed again on failure.
    Status build();
    Status write_pid(pid_t pid);
    // In the child: a private mount namespace whose root is the jail, the old root detached.
    Status enter() const;
    // The binary, the device nodes, the pid file and the folders build() made, when empty.
    void remove();

    const std::string& binary_inside() const { return m_binary_inside; }

private:
    Status make_dir(const std::string& path);
    Status make_node(const std::string& path, unsigned major, unsigned minor);
    Status copy_binary();

    std::string m_exec_file;
    std::string m_root;
    std::string m_binary;         // host path of the copy
    std::string m_binary_inside;  // "/<exec name>"
    std::string m_pid_file;
    uid_t m_uid = 0;
    gid_t m_gid = 0;
    std::vector<std::string> m_files;    // made, to unlink
    std::vector<std::string> m_folders;  // made, in order
};

}  // namespace vmm::jailer
