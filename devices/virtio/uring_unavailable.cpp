// A build without liburing (EMBER_PORTABLE): engine=io_uring fails with a clear error.
#include "devices/virtio/disk_engine.h"

namespace vmm::virtio {

Result<std::unique_ptr<DiskEngine>> make_uring_engine(DiskFile&, unsigned) {
    return Error(ErrorKind::HostResource, "io_uring: this build of Ember has no io_uring engine");
}

}  // namespace vmm::virtio
