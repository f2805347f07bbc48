// Force-included (g++ -include) into every source of the node-gyp build on
// Linux, so the addon needs no libstdc++ newer than the oldest distribution
// Node 18 runs on (glibc 2.28, GCC 8's libstdc++: GLIBCXX_3.4.25; RHEL 8).
// scripts/ci/check-symbols.js checks the result with objdump -T.
//
// Headers of a newer GCC make the addon ask libstdc++ for symbol versions
// that older libstdc++.so.6 files lack. Two such references come from the
// C++ headers here (GCC 12), not from our code:
//  - std::condition_variable::wait(unique_lock&) became GLIBCXX_3.4.30 in
//    GCC 12; the same function is still exported as GLIBCXX_3.4.11, so bind
//    to that version.
//  - std::allocator<T>::allocate calls std::__throw_bad_array_new_length()
//    (GLIBCXX_3.4.29, GCC 11) when asked for more than SIZE_MAX / sizeof(T)
//    elements; no older version exists. Throw std::bad_alloc there instead,
//    as GCC 10 did (bad_array_new_length is a bad_alloc; node-addon-api
//    turns either into a JavaScript error).
// Without these lines the addon works the same on a new system; it just
// refuses to load on an older one.
#ifndef ASYNCORE_LIBSTDCXX_FLOOR_H
#define ASYNCORE_LIBSTDCXX_FLOOR_H
#if defined(__linux__) && defined(__cplusplus)
__asm__(".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,"
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#define __throw_bad_array_new_length __throw_bad_alloc
#endif
#endif
