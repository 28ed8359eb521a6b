/*
 * bcryptprimitives.dll shim for Wine 8.0, which lacks this DLL.
 *
 * Rust's standard library (1.78 and later) imports ProcessPrng from bcryptprimitives.dll on
 * Windows; without it every Rust program fails to start under Wine 8.0 with c0000135. This DLL
 * exports only ProcessPrng and fills the buffer from advapi32's SystemFunction036 (RtlGenRandom),
 * which Wine implements. Test tooling only: never shipped, never installed on real Windows.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll \
 *            bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom: exported by advapi32 under this name (ntsecapi.h declares it as a macro). */
__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): fills cbData bytes; TRUE on success. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    /* SystemFunction036 takes a 32-bit length: fill larger buffers in chunks. */
    const SIZE_T chunk = 0x10000000;
    while (size > 0) {
        ULONG n = (ULONG)(size < chunk ? size : chunk);
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        size -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
