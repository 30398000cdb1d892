// A connected socket as Beast's SyncReadStream/SyncWriteStream, where every read and write
// waits at most until one deadline (poll), so a client that sends a request slowly, or reads
// its answer slowly, is cut off instead of holding a worker.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <chrono>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace vmm::api {

class DeadlineStream {
public:
    using Clock = std::chrono::steady_clock;
    explicit DeadlineStream(int fd) : m_fd(fd) {}
    void set_deadline(Clock::time_point deadline) { m_deadline = deadline; }

    template <class Buffers>
    size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
        return transfer(first(buffers), POLLIN, ec);
    }
    template <class Buffers>
    size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
        return transfer(first(buffers), POLLOUT, ec);
    }
    // The throwing forms the concepts also ask for; Ember calls only the ones above.
    template <class Buffers>
    size_t read_some(const Buffers& buffers) { return or_throw(read_some(buffers, m_last), m_last); }
    template <class Buffers>
    size_t write_some(const Buffers& buffers) { return or_throw(write_some(buffers, m_last), m_last); }

private:
    template <class Buffers>
    static boost::asio::mutable_buffer first(const Buffers& buffers) {
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
            boost::asio::mutable_buffer b(const_cast<void*>(static_cast<const void*>(boost::asio::buffer(*it).data())),
                                          boost::asio::buffer(*it).size());
            if (b.size())
                return b;
        }
        return {};
    }
    static size_t or_throw(size_t n, const boost::system::error_code& ec) {
        if (ec)
            throw boost::system::system_error(ec);
        return n;
    }
    size_t transfer(boost::asio::mutable_buffer buffer, short events, boost::system::error_code& ec);

    int m_fd;
    Clock::time_point m_deadline = Clock::now();
    boost::system::error_code m_last;
};

}  // namespace vmm::api
