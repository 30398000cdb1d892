#include "vmm/device_state_codec.h"

namespace vmm {

namespace {

// Bounds on what a state file may make Ember allocate; each device's restore() has the
// tighter ones (the UART's FIFO, the keyboard buffer, the transport's queue count).
constexpr uint32_t MAX_BUFFERED = 4096;
constexpr uint32_t MAX_QUEUES = 1024;
constexpr uint32_t MAX_FRAME = 65536 + 64;  // a received frame and its virtio-net header

void encode_layout(const virtio::QueueLayout& layout, StateEncoder& out) {
    out.put(layout.size);
    out.put(layout.desc_table);
    out.put(layout.avail_ring);
    out.put(layout.used_ring);
}

Result<virtio::QueueLayout> decode_layout(StateDecoder& in) {
    virtio::QueueLayout layout;
    layout.size = TRY(in.get<uint16_t>());
    layout.desc_table = TRY(in.get<uint64_t>());
    layout.avail_ring = TRY(in.get<uint64_t>());
    layout.used_ring = TRY(in.get<uint64_t>());
    return layout;
}

void encode_queue(const virtio::VirtioCore::QueueState& queue, StateEncoder& out) {
    encode_layout(queue.layout, out);
    out.put(static_cast<uint8_t>(queue.ready));
    out.put(static_cast<uint8_t>(queue.queue.has_value()));
    if (!queue.queue)
        return;
    const virtio::Virtqueue::State& q = *queue.queue;
    encode_layout(q.layout, out);
    out.put(static_cast<uint8_t>(q.event_idx));
    out.put(static_cast<uint8_t>(q.indirect));
    out.put(q.next_avail);
    out.put(q.next_used);
    out.put(q.signalled_used);
}

Result<virtio::VirtioCore::QueueState> decode_queue(StateDecoder& in) {
    virtio::VirtioCore::QueueState queue;
    queue.layout = TRY(decode_layout(in));
    queue.ready = TRY(in.get_bool("a queue's ready flag"));
    if (!TRY(in.get_bool("a queue's running flag")))
        return queue;
    virtio::Virtqueue::State q;
    q.layout = TRY(decode_layout(in));
    q.event_idx = TRY(in.get_bool("a queue's EVENT_IDX flag"));
    q.indirect = TRY(in.get_bool("a queue's INDIRECT_DESC flag"));
    q.next_avail = TRY(in.get<uint16_t>());
    q.next_used = TRY(in.get<uint16_t>());
    q.signalled_used = TRY(in.get<uint16_t>());
    queue.queue = q;
    return queue;
}

}  // namespace

void encode_state(const Serial::State& s, StateEncoder& out) {
    for (uint8_t reg : {s.ier, s.lcr, s.mcr, s.scratch, s.fcr, s.dll, s.dlm})
        out.put(reg);
    out.put(static_cast<uint8_t>(s.thr_empty_pending));
    out.put_vector(s.rx);
}

Result<Serial::State> decode_serial_state(StateDecoder& in) {
    Serial::State s{};
    for (uint8_t* reg : {&s.ier, &s.lcr, &s.mcr, &s.scratch, &s.fcr, &s.dll, &s.dlm})
        *reg = TRY(in.get<uint8_t>());
    s.thr_empty_pending = TRY(in.get_bool("the UART's THR-empty flag"));
    s.rx = TRY(in.get_vector(MAX_BUFFERED, "the UART's receive FIFO"));
    return s;
}

void encode_state(const I8042::State& s, StateEncoder& out) {
    out.put(static_cast<uint8_t>(s.controller_output.has_value()));
    out.put(s.controller_output.value_or(0));
    out.put_vector(s.keyboard_output);
    out.put(s.pending);
    out.put(s.ctr);
}

Result<I8042::State> decode_i8042_state(StateDecoder& in) {
    I8042::State s{};
    const bool has_output = TRY(in.get_bool("the i8042's controller output flag"));
    const uint8_t output = TRY(in.get<uint8_t>());
    if (has_output)
        s.controller_output = output;
    s.keyboard_output = TRY(in.get_vector(MAX_BUFFERED, "the keyboard's buffer"));
    s.pending = TRY(in.get<uint8_t>());
    s.ctr = TRY(in.get<uint8_t>());
    return s;
}

void encode_state(const Cmos::State& s, StateEncoder& out) {
    out.put(s.index);
    out.put(s.ram);
}

Result<Cmos::State> decode_cmos_state(StateDecoder& in) {
    Cmos::State s{};
    s.index = TRY(in.get<uint8_t>());
    s.ram = TRY(in.get<decltype(s.ram)>());
    return s;
}

void encode_state(const virtio::MmioTransport::State& s, StateEncoder& out) {
    out.put(s.core.status);
    out.put(s.core.driver_features);
    out.put(s.core.config_generation);
    out.put(static_cast<uint32_t>(s.core.queues.size()));
    for (const auto& queue : s.core.queues)
        encode_queue(queue, out);
    out.put(s.device_features_sel);
    out.put(s.driver_features_sel);
    out.put(s.queue_sel);
    out.put(s.interrupt_status);
}

Result<virtio::MmioTransport::State> decode_mmio_transport_state(StateDecoder& in) {
    virtio::MmioTransport::State s;
    s.core.status = TRY(in.get<uint32_t>());
    s.core.driver_features = TRY(in.get<uint64_t>());
    s.core.config_generation = TRY(in.get<uint32_t>());
    const uint32_t queues = TRY(in.get_count(MAX_QUEUES, "queues"));
    for (uint32_t i = 0; i < queues; ++i)
        s.core.queues.push_back(TRY(decode_queue(in)));
    s.device_features_sel = TRY(in.get<uint32_t>());
    s.driver_features_sel = TRY(in.get<uint32_t>());
    s.queue_sel = TRY(in.get<uint32_t>());
    s.interrupt_status = TRY(in.get<uint32_t>());
    return s;
}

void encode_state(const virtio::Net::State& s, StateEncoder& out) {
    out.put(s.active_pairs);
    out.put(static_cast<uint32_t>(s.waiting_frames.size()));
    for (const auto& frame : s.waiting_frames)
        out.put_vector(frame);
}

Result<virtio::Net::State> decode_net_state(StateDecoder& in) {
    virtio::Net::State s;
    s.active_pairs = TRY(in.get<uint32_t>());
    const uint32_t pairs = TRY(in.get_count(MAX_QUEUES, "queue pairs"));
    for (uint32_t i = 0; i < pairs; ++i)
        s.waiting_frames.push_back(TRY(in.get_vector(MAX_FRAME, "a waiting frame")));
    return s;
}

void encode_state(const virtio::Console::State& s, StateEncoder& out) {
    out.put(s.tx_offset);
    out.put_vector(s.input);
}

Result<virtio::Console::State> decode_console_state(StateDecoder& in) {
    virtio::Console::State s;
    s.tx_offset = TRY(in.get<uint64_t>());
    s.input = TRY(in.get_vector(virtio::Console::INPUT_CAPACITY, "the console's undelivered input"));
    return s;
}

}  // namespace vmm
