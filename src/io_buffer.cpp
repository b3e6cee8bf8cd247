#include "syncd/io_buffer.hpp"

#include <sys/mman.h>

#include <new>

namespace syncd {

namespace {
constexpr std::size_t huge_page = std::size_t{2} << 20;
}

io_buffer::io_buffer(std::size_t size) : size_(size)
{
    if (size >= huge_page) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            throw std::bad_alloc();
        // Advice only: without THP the buffer still works, with 4 KiB pages.
        (void)::madvise(p, size, MADV_HUGEPAGE);
        data_ = static_cast<char*>(p);
        mapped_ = true;
    } else {
        data_ = new char[size == 0 ? 1 : size];
    }
}

io_buffer::~io_buffer()
{
    if (mapped_)
        ::munmap(data_, size_);
    else
        delete[] data_;
}

} // namespace syncd
