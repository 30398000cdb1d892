# guest_modules.sh (sourced): the kernel modules guest_init.sh loads, as paths under the
# kernel's lib/modules/VERSION/kernel/ without ".ko", in dependency order (modinfo -F depends).
# The same list for Debian's amd64 and arm64 cloud kernels.
GUEST_MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio
    drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci
    drivers/block/virtio_blk net/core/failover drivers/net/net_failover drivers/net/virtio_net
    drivers/char/virtio_console drivers/char/hw_random/virtio-rng fs/fuse/fuse fs/fuse/virtiofs
    net/vmw_vsock/vsock net/vmw_vsock/vmw_vsock_virtio_transport_common net/vmw_vsock/vmw_vsock_virtio_transport"
