#include "devices/virtio/qcow2_inflate.h"

#include <zlib.h>

namespace vmm::virtio::qcow2 {

Status inflate_cluster(std::span<const uint8_t> compressed, std::span<uint8_t> cluster) {
    z_stream stream{};
    if (inflateInit2(&stream, -12) != Z_OK)
        return Error(ErrorKind::HostResource, "qcow2: zlib inflateInit2 failed");
    stream.next_in = const_cast<uint8_t*>(compressed.data());
    stream.avail_in = static_cast<uInt>(compressed.size());
    stream.next_out = cluster.data();
    stream.avail_out = static_cast<uInt>(cluster.size());
    const int ret = inflate(&stream, Z_FINISH);
    // Trailing bytes are allowed (the entry counts whole sectors): a full cluster is success.
    const bool whole = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && stream.avail_out == 0;
    inflateEnd(&stream);
    if (!whole)
        return Error(ErrorKind::InvalidInput, "qcow2: a compressed cluster does not inflate to one cluster");
    return {};
}

}  // namespace vmm::virtio::qcow2
