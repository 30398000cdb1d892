#include "base/result.h"

namespace vmm {

const char* error_kind_name(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::InvalidInput: return "invalid input";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Busy: return "busy";
    case ErrorKind::HostResource: return "host resource";
    case ErrorKind::GuestFault: return "guest fault";
    case ErrorKind::Internal: return "internal";
    }
    return "internal";
}

ErrorKind error_kind_of_errno(int err) {
    switch (err) {
    case ENOENT: case ENOTDIR: case ENODEV: case ENXIO: case EACCES: case EPERM: case EROFS:
        return ErrorKind::NotFound;
    case EBUSY: case EEXIST: case EADDRINUSE: case ETXTBSY: case EWOULDBLOCK:
        return ErrorKind::Busy;
    case EISDIR: case ENAMETOOLONG: case ELOOP: case EFBIG:
        return ErrorKind::InvalidInput;
    default:
        return ErrorKind::HostResource;  // ENOMEM, EMFILE, ENOSPC, EIO, ...
    }
}

}  // namespace vmm
