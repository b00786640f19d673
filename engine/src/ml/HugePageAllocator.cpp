#include "ml/HugePageAllocator.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace vocalmidi {

namespace {

// Each block is preceded by one alignment unit holding its class (kHeap: from the heap),
// so release() knows where it goes and the block stays 64-byte aligned.
constexpr uint32_t kHeap = 0xffffffffu;
constexpr uint32_t kMagic = 0x564d4841u;  // "VMHA": a pointer this allocator did not give
struct Header {
    uint32_t cls;
    uint32_t magic;
};
static_assert(sizeof(Header) <= HugePageAllocator::kAlign, "header fits its unit");

Header* headerOf(void* p) {
    return reinterpret_cast<Header*>(static_cast<char*>(p) - HugePageAllocator::kAlign);
}

}  // namespace

HugePageAllocator::HugePageAllocator(size_t regionBytes)
    : info(Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeDefault)) {
    version = ORT_API_VERSION;
    OrtAllocator::Alloc = [](OrtAllocator* self, size_t n) {
        return static_cast<HugePageAllocator*>(self)->allocate(n);
    };
    OrtAllocator::Free = [](OrtAllocator* self, void* p) {
        static_cast<HugePageAllocator*>(self)->release(p);
    };
    OrtAllocator::Info = [](const OrtAllocator* self) -> const OrtMemoryInfo* {
        return static_cast<const HugePageAllocator*>(self)->info;
    };
    OrtAllocator::Reserve = OrtAllocator::Alloc;
#if defined(__linux__)
    // Reserve one huge page more than asked and keep the 2 MB-aligned part: the kernel only
    // maps huge pages on aligned 2 MB ranges.
    const size_t want = (regionBytes + kHugePage - 1) / kHugePage * kHugePage;
    void* raw = mmap(nullptr, want + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (want == 0 || raw == MAP_FAILED)
        return;  // every block from the heap
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
    if (aligned > start)
        munmap(raw, aligned - start);
    if (const size_t tail = start + want + kHugePage - (aligned + want))
        munmap(reinterpret_cast<void*>(aligned + want), tail);
    region = reinterpret_cast<char*>(aligned);
    regionSize = want;
    asked = madvise(region, regionSize, MADV_HUGEPAGE) == 0;
#else
    (void)regionBytes;
#endif
}

HugePageAllocator::~HugePageAllocator() {
#if defined(__linux__)
    if (region != nullptr)
        munmap(region, regionSize);
#endif
}

int HugePageAllocator::classOf(size_t bytes) {
    int cls = 0;
    while (cls < kClasses && (kAlign << cls) < bytes)
        ++cls;
    return cls;  // kClasses: too big for the region
}

void* HugePageAllocator::allocate(size_t bytes) {
    const int cls = classOf(bytes == 0 ? 1 : bytes);
    if (cls < kClasses) {
        std::lock_guard<std::mutex> guard(lock);
        void* block = freeLists[cls];
        if (block != nullptr) {
            freeLists[cls] = *static_cast<void**>(block);
            return block;
        }
        const size_t need = kAlign + (kAlign << cls);
        if (region != nullptr && regionSize - carved >= need) {
            char* unit = region + carved;
            carved += need;
            *reinterpret_cast<Header*>(unit) = Header{uint32_t(cls), kMagic};
            return unit + kAlign;
        }
    }
    // Too big for a class, or the region is full: the heap, with the same header.
    const size_t total = kAlign + (bytes + kAlign - 1) / kAlign * kAlign;
    void* unit = nullptr;
    if (posix_memalign(&unit, kAlign, total) != 0)
        return nullptr;
    *static_cast<Header*>(unit) = Header{kHeap, kMagic};
    return static_cast<char*>(unit) + kAlign;
}

void HugePageAllocator::release(void* p) {
    if (p == nullptr)
        return;
    Header* h = headerOf(p);
    if (h->magic != kMagic)
        std::abort();  // not ours: freeing it would corrupt whatever owns it
    if (h->cls == kHeap) {
        std::free(h);
        return;
    }
    std::lock_guard<std::mutex> guard(lock);
    *static_cast<void**>(p) = freeLists[h->cls];
    freeLists[h->cls] = p;
}

std::string HugePageAllocator::kernelMode() {
    std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");  // "always [madvise] never"
    std::string line;
    std::getline(f, line);
    const auto open = line.find('['), close = line.find(']');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return {};
    return line.substr(open + 1, close - open - 1);
}

bool HugePageAllocator::inRegion(const void* p) const {
    const char* c = static_cast<const char*>(p);
    return region != nullptr && c >= region && c < region + regionSize;
}

size_t HugePageAllocator::regionBytesUsed() const {
    std::lock_guard<std::mutex> guard(lock);
    return carved;
}

}  // namespace vocalmidi
