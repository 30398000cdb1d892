// The child's last steps before exec: rlimits, the network namespace, and root dropped for
// good (no capabilities in any set, no way back through exec: no_new_privs).
#pragma once

#include <sys/types.h>

#include <vector>

#include "base/result.h"
#include "vmm/jailer/jail_options.h"

namespace vmm::jailer {

// Firecracker's default when --resource-limit no-file is not given.
inline constexpr rlim_t DEFAULT_NO_FILE = 2048;

Status apply_limits(const std::vector<ResourceLimit>& limits);
// The namespace file's fd (checked to be a network namespace), or an invalid one without --netns.
Result<int> open_netns(const std::string& path);
Status join_netns(int fd);
Status drop_privileges(uid_t uid, gid_t gid);

}  // namespace vmm::jailer
